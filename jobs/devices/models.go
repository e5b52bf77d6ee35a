package devices

import "strings"

// This file holds what the rules know of Android device models: which are
// tablets and which are computers. A tablet's browser often says "Mobile"
// (small tablets get phone layouts, and many apps and browsers say it
// everywhere), so for Android the model name is the best evidence of the
// form. The knowledge is of naming conventions, per maker where the maker
// has them, not a list of devices: "SM-T" + digits is a Samsung Galaxy Tab
// of any year, a Digma code "TS8287PL" carries the screen size in its first
// digit.

// modelNext says what must follow a model prefix for it to match.
type modelNext uint8

const (
	nextAny      modelNext = iota // anything, or nothing
	nextDigit                     // a digit
	nextNoLetter                  // the end of the model, or no letter
	nextNoDigit                   // the end of the model, or no digit
	nextCode                      // maybe a digit, maybe a letter, then '-': Huawei's "BAH3-", "KOB2K-", Lenovo's "TB-"
	nextSize                      // a screen size of 7 to 13 inches in the first digits: BQ's "BQ-7082", "BQ-1081G"
)

type modelRule struct {
	prefix string // lower case; matches at the start of a word of the model
	next   modelNext
}

// tabletModelRules are model prefixes of tablet lines, in lower case. They
// match at the start of any word of the model (after a space, '_' or '-'),
// so that "Lenovo TB-X505F" and "SAMSUNG SM-T510" match as "TB-X505F" and
// "SM-T510" do.
var tabletModelRules = []modelRule{
	// Samsung: Galaxy Tab codes, old and new.
	{"sm-t", nextDigit}, {"sm-x", nextDigit}, {"sm-p", nextDigit},
	{"gt-p", nextDigit}, {"gt-n5", nextDigit}, {"gt-n8", nextDigit},
	{"sch-i800", nextAny}, {"sch-i905", nextAny}, {"sch-i915", nextAny}, {"sgh-t849", nextAny},
	{"sgh-i987", nextAny}, {"sgh-i957", nextAny}, {"shw-m180", nextAny}, {"shw-m380", nextAny},
	{"shw-m480", nextAny}, {"shv-e230", nextAny}, {"sc-01c", nextAny}, {"sc-01e", nextAny},
	{"sph-p100", nextAny}, {"n5100", nextNoLetter}, {"n5110", nextNoLetter}, {"n5120", nextNoLetter},
	{"n8000", nextNoLetter}, {"n8010", nextNoLetter}, {"n8013", nextNoLetter},
	{"p3100", nextNoLetter}, {"p3110", nextNoLetter}, {"p5100", nextNoLetter}, {"p5110", nextNoLetter},
	{"p6200", nextNoLetter}, {"p6210", nextNoLetter}, {"p7500", nextNoLetter}, {"p7510", nextNoLetter},
	// Huawei and Honor: MediaPad, MatePad and Honor Pad codes (the
	// phones' codes are other letters, see also huaweiWiFiModel).
	{"agr", nextCode}, {"ags", nextCode}, {"agm", nextCode}, {"bah", nextCode}, {"bg2", nextCode},
	{"btv", nextCode}, {"bza", nextCode}, {"bzc", nextCode}, {"bzd", nextCode}, {"bzi", nextCode},
	{"bzk", nextCode}, {"bzt", nextCode}, {"bzw", nextCode}, {"cmr", nextCode}, {"cpn", nextCode},
	{"dby", nextCode}, {"dbr", nextCode}, {"got", nextCode}, {"hdl", nextCode}, {"hdn", nextCode},
	{"jdn", nextCode}, {"jms", nextCode}, {"kob", nextCode}, {"kobe", nextCode}, {"krj", nextCode},
	{"mon", nextCode}, {"mrx", nextCode}, {"scm", nextCode}, {"sht", nextCode}, {"tgr", nextCode},
	{"vrd", nextCode}, {"eln", nextCode}, {"hey", nextCode}, {"rod", nextCode}, {"gdi", nextCode},
	{"brt", nextCode}, {"ndl", nextCode}, {"xyao", nextCode}, {"pce", nextCode}, {"sgt", nextCode},
	{"btk", nextCode}, {"fdr", nextCode}, {"wgr", nextCode}, {"t1", nextCode}, {"m2", nextCode},
	{"s7-", nextDigit}, {"s8-", nextDigit}, {"s10-", nextDigit}, {"7d-", nextDigit}, {"gem-", nextDigit},
	{"ple", nextCode}, {"bgo", nextCode}, {"mediapad", nextAny}, {"matepad", nextAny},
	// Lenovo: Tab and Yoga Tab codes, IdeaTab, Xiaoxin Pad (see also
	// lenovoIdeaTabModel).
	{"tb", nextCode}, {"tb", nextDigit}, {"yt", nextCode}, {"ideatab", nextAny},
	// Xiaomi, Oppo, OnePlus, Realme, Vivo, Nokia pads (see also xiaomiPadModel).
	{"21051182", nextAny}, {"22081281", nextAny}, {"22081282", nextAny}, {"22081283", nextAny},
	{"m2105k81", nextAny}, {"opd", nextDigit}, {"rmp", nextDigit}, {"pa2", nextDigit}, {"nokia t", nextDigit},
	{"ipa", nextDigit},
	// Asus: ZenPad, MeMO Pad, Fonepad, Transformer codes.
	{"p00", nextAny}, {"p01", nextAny}, {"p02", nextDigit}, {"k00", nextAny}, {"k01", nextAny},
	{"me1", nextDigit}, {"me3", nextDigit}, {"me4", nextDigit}, {"me57", nextDigit}, {"me58", nextDigit},
	{"tf", nextDigit}, {"transformer", nextAny}, {"fonepad", nextAny},
	// Acer Iconia.
	{"a1-", nextDigit}, {"a3-a", nextDigit}, {"b1-", nextDigit}, {"b3-a", nextDigit}, {"iconia", nextAny},
	{"acer one", nextAny},
	// Sony, LG, Motorola, HTC, Google, Microsoft, Barnes & Noble, NEC.
	{"sgp", nextDigit}, {"sonysgp", nextAny}, {"sony tablet", nextAny},
	{"lg-v4", nextDigit}, {"lg-v5", nextDigit}, {"lg-v7", nextDigit}, {"lm-t6", nextDigit}, {"lg-uk", nextAny},
	{"vk8", nextDigit}, {"xoom", nextAny}, {"mz6", nextDigit}, {"flyer", nextAny}, {"htc_flyer", nextAny},
	{"pixel c", nextNoLetter}, {"pixel tablet", nextAny}, {"surface", nextAny},
	{"bntv", nextAny}, {"bnrv", nextAny}, {"nook", nextAny}, {"pc-te", nextAny}, {"pc-ts", nextAny},
	// Tablet makers and lines with codes of their own: BQ (its codes start
	// with the screen size), Prestigio MultiPad, Irbis, RCA, Nomi, Alldocube,
	// Teclast, Ginzzu, Tesla, Verykool, Mito, Tecno DroiPad, Readboy, Numy,
	// Zync, Supra, Allview Viva.
	{"bq-", nextSize}, {"bqru-", nextSize}, {"pmt", nextDigit}, {"pmp", nextDigit}, {"tz", nextDigit},
	{"rct6", nextAny}, {"rc07", nextDigit}, {"rc08", nextDigit}, {"rc09", nextDigit}, {"rc10", nextDigit},
	{"rc7", nextDigit}, {"rc8", nextDigit}, {"rc9", nextDigit}, {"nomi c", nextDigit}, {"nomi_c", nextDigit},
	{"iplay", nextAny}, {"alldocube", nextAny}, {"teclast", nextAny}, {"ginzzu gt", nextAny},
	{"ginzzu_gt", nextAny}, {"tesla ttl", nextAny}, {"tesla_ttl", nextAny}, {"tesla gravity", nextAny},
	{"verykool t", nextAny}, {"verykoolt", nextAny}, {"mito t", nextDigit}, {"tecno p7", nextAny},
	{"tecno p9", nextAny}, {"readboy", nextAny}, {"numy", nextAny}, {"zync", nextAny}, {"supra m", nextDigit},
	{"viva h", nextDigit}, {"viva_h", nextDigit}, {"vivah", nextDigit}, {"viva c", nextDigit},
	{"viva i", nextDigit}, {"ax501", nextAny}, {"ax4nano", nextAny}, {"ax5nano", nextAny},
	{"ax2_frenzy", nextAny}, {"allview ax", nextAny}, {"allviewax", nextAny}, {"mfc", nextDigit},
	{"p20hd", nextAny}, {"p30hd", nextAny}, {"p40hd", nextAny}, {"p80hd", nextAny}, {"alfa_", nextSize},
	{"cat nova", nextAny}, {"catnova", nextAny}, {"cat stargate", nextAny},
	{"irulu", nextAny}, {"iball_slide", nextAny}, {"iball slide", nextAny},
	{"navitel_t", nextAny}, {"y88x", nextAny},
	{"qta", nextAny}, {"okt", nextDigit}, {"kurio", nextAny}, {"lavie", nextAny}, {"tpc", nextAny}, {"m7-3g", nextAny}, {"m7_3g", nextAny}, {"m8-3g", nextAny}, {"m9-3g", nextAny},
	// Words.
	{"tablet", nextAny}, {"slate", nextAny}, {"kindle", nextAny},
	// Alcatel and TCL tablets, four digits and a letter: 8082, 9032X, ...
	{"8052", nextNoDigit}, {"8063", nextNoDigit}, {"8067", nextNoDigit}, {"8068", nextNoDigit},
	{"8082", nextNoDigit}, {"8084", nextNoDigit}, {"8085", nextNoDigit}, {"8088", nextNoDigit},
	{"8091", nextNoDigit}, {"8092", nextNoDigit}, {"8094", nextNoDigit}, {"8095", nextNoDigit},
	{"9002", nextNoDigit}, {"9003", nextNoDigit}, {"9006", nextNoDigit}, {"9007", nextNoDigit},
	{"9009", nextNoDigit}, {"9010", nextNoDigit}, {"9013", nextNoDigit}, {"9015", nextNoDigit},
	{"9020", nextNoDigit}, {"9024", nextNoDigit}, {"9025", nextNoDigit}, {"9026", nextNoDigit},
	{"9027", nextNoDigit}, {"9029", nextNoDigit}, {"9032", nextNoDigit},
	{"9060", nextNoDigit}, {"9132", nextNoDigit}, {"9203", nextNoDigit}, {"9309", nextNoDigit},
	{"9080", nextNoDigit}, {"9081", nextNoDigit}, {"9137", nextNoDigit}, {"9466", nextNoDigit},
	{"8491", nextNoDigit}, {"8496", nextNoDigit},
}

// tabletRulesByFirst indexes tabletModelRules by their first byte.
var tabletRulesByFirst = func() (idx [256][]modelRule) {
	for _, r := range tabletModelRules {
		idx[r.prefix[0]] = append(idx[r.prefix[0]], r)
	}
	return idx
}()

// isTabletModel reports Android models named as tablets. lm is the model in
// lower case. Besides tabletModelRules: a word starting with "tab" or a
// "tab" inside a word ("Galaxy Tab", "TAB7", "SurfTab", "XTab"; not
// "table"), a word ending in "pad" ("MatePad", "Mi Pad 4", "ViewPad7"; not
// the phone maker Coolpad),
// "MID" codes of generic tablets, Google's Nexus 7, 9 and 10, Amazon's Fire
// codes ("KFTT", "KFMAWI"), and the codes of huaweiWiFiModel,
// xiaomiPadModel, sizeCodedModel and archosTablet.
func isTabletModel(lm string) bool {
	if lm == "" {
		return false
	}
	if tabWord(lm) || (hasToken(lm, "pad") && !strings.Contains(lm, "coolpad")) {
		return true
	}
	if containsAny(lm, "nexus 7", "nexus 9", "nexus 10") {
		return true
	}
	if i := strings.Index(lm, "mid"); i >= 0 && (i == 0 || !isAlnum(lm[i-1])) && (i+3 == len(lm) || !isLetter(lm[i+3])) {
		return true
	}
	if kindleFireCode(lm) {
		return true
	}
	for i := 0; i < len(lm); i++ {
		if i > 0 && lm[i-1] != ' ' && lm[i-1] != '_' && lm[i-1] != '-' {
			continue
		}
		for _, r := range tabletRulesByFirst[lm[i]] {
			if strings.HasPrefix(lm[i:], r.prefix) && r.next.matches(lm[i+len(r.prefix):]) {
				return true
			}
		}
	}
	return huaweiWiFiModel(lm) || xiaomiPadModel(lm) || sizeCodedModel(lm) || archosTablet(lm) ||
		lenovoIdeaTabModel(lm) || onnModel(lm)
}

// lenovoIdeaTabModel reports the codes of Lenovo's IdeaTab and Tab A, B and
// S lines: a letter, four digits and a Wi-Fi "-F", 3G "-H" or "-HV" or
// "-E" variant ("A3000-H", "S6000-F", "B8000-F"; Lenovo's phones are "-A"
// or "-L", "A6000-L"), or a letter, the screen size, '-' and two digits
// ("A7-30", "A10-70", "S8-50").
func lenovoIdeaTabModel(lm string) bool {
	lm = strings.TrimPrefix(lm, "lenovo ")
	if len(lm) < 5 || (lm[0] != 'a' && lm[0] != 'b' && lm[0] != 's') {
		return false
	}
	rest := lm[1:]
	if n, k := leadingInt(rest); k == 4 && n >= 1000 && len(rest) > 5 && rest[4] == '-' {
		v := rest[5:]
		return v == "f" || v == "h" || v == "hv" || v == "e" || v == "fe" || strings.HasPrefix(v, "f ") || strings.HasPrefix(v, "h ")
	}
	n, k := leadingInt(rest)
	return (k == 1 || k == 2) && n >= 7 && n <= 13 && len(rest) >= k+3 && rest[k] == '-' && isDigit(rest[k+1]) && isDigit(rest[k+2])
}

// onnModel reports the tablets of Walmart's onn brand, named by a nine-digit
// item number starting with "1000" ("100011885", "100015685-A").
func onnModel(lm string) bool {
	if len(lm) < 9 || !strings.HasPrefix(lm, "1000") {
		return false
	}
	for i := 4; i < 9; i++ {
		if !isDigit(lm[i]) {
			return false
		}
	}
	return len(lm) == 9 || lm[9] == '-'
}

// matches reports whether rest, what follows a prefix, is what n asks for.
func (n modelNext) matches(rest string) bool {
	switch n {
	case nextDigit:
		return rest != "" && isDigit(rest[0])
	case nextNoLetter:
		return rest == "" || !isLetter(rest[0])
	case nextNoDigit:
		return rest == "" || !isDigit(rest[0])
	case nextCode:
		k := 0
		if k < len(rest) && isDigit(rest[k]) {
			k++
		}
		if k < len(rest) && isLetter(rest[k]) {
			k++
		}
		return k < len(rest) && rest[k] == '-'
	case nextSize:
		return screenSize(rest) >= 7
	}
	return true
}

// screenSize reads the screen size in whole inches at the start of a model
// code that begins with it: "7082" and "7MRC" are 7, "1081G" and "10BS" are
// 10, "5512L" is 5; 0 when rest does not start with such a code. Sizes run
// from 2 to 13 inches.
func screenSize(rest string) int {
	if len(rest) < 2 || !isDigit(rest[0]) {
		return 0
	}
	switch {
	case rest[0] == '1' && '0' <= rest[1] && rest[1] <= '3':
		return 10 + int(rest[1]-'0')
	case rest[0] >= '2':
		return int(rest[0] - '0')
	}
	return 0
}

// tabWord finds "tab" starting a word or inside one ("SurfTab", "XTab 7",
// "miTab"), but not in "table" or "stable".
func tabWord(lm string) bool {
	for off := 0; ; {
		i := strings.Index(lm[off:], "tab")
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if !strings.HasPrefix(lm[i+3:], "le") {
			return true
		}
	}
}

// kindleFireCode reports Amazon's Fire tablet codes: "kf" and two to six
// letters ("kftt", "kfmawi").
func kindleFireCode(lm string) bool {
	if len(lm) < 4 || len(lm) > 8 || !strings.HasPrefix(lm, "kf") {
		return false
	}
	for i := 2; i < len(lm); i++ {
		if !isLetter(lm[i]) {
			return false
		}
	}
	return true
}

// huaweiWiFiModel reports Huawei and Honor codes of Wi-Fi-only models,
// "BAH3-W09", "KRJ-W09", "MRX-W29": three or four letters, maybe a digit and
// a letter, then "-W" and two digits. Huawei's phones all have a cellular
// radio, so only its tablets (and laptops) have a "W" variant. Samsung's
// "SM-W" codes are its Galaxy phones for China.
func huaweiWiFiModel(lm string) bool {
	i := 0
	for i < len(lm) && i < 4 && isLetter(lm[i]) {
		i++
	}
	if i < 3 || strings.HasPrefix(lm, "sm-") {
		return false
	}
	for k := 0; k < 2 && i < len(lm) && isAlnum(lm[i]); k++ {
		i++
	}
	rest := lm[i:]
	return len(rest) >= 4 && rest[0] == '-' && rest[1] == 'w' && isDigit(rest[2]) && isDigit(rest[3])
}

// xiaomiPadModel reports the codes of Xiaomi's and Redmi's pads, which
// carry "RP" after a date and maybe a letter: "23073RPBFG", "24091RPADC",
// "2307BRPDCC".
func xiaomiPadModel(lm string) bool {
	i := 0
	for i < len(lm) && isDigit(lm[i]) {
		i++
	}
	if i == 4 && i < len(lm) && isLetter(lm[i]) {
		i++
	}
	if i < 4 || i > 5 || !strings.HasPrefix(lm[i:], "rp") {
		return false
	}
	rest := lm[i+2:]
	if len(rest) < 2 || len(rest) > 4 {
		return false
	}
	for k := 0; k < len(rest); k++ {
		if !isAlnum(rest[k]) {
			return false
		}
	}
	return true
}

// sizeCodedModel reports the model codes of makers that put the screen size
// in them, when the size is a tablet's (7 inches or more): Digma's
// "CITI 7507 4G CS7113PL" and "Optima 8403D 4G TS8287PL" end in two
// letters, four digits starting with the size and two letters; generic
// makers' "QS0716D", "MT0729D", "LC0901D" are two letters, "0", the size and
// two digits.
func sizeCodedModel(lm string) bool {
	// Digma: the last word.
	w := lm[max(strings.LastIndexAny(lm, " _")+1, 0):]
	if len(w) == 8 && isLetter(w[0]) && isLetter(w[1]) && isLetter(w[6]) && isLetter(w[7]) &&
		isDigit(w[2]) && isDigit(w[3]) && isDigit(w[4]) && isDigit(w[5]) && screenSize(w[2:]) >= 7 {
		return true
	}
	return len(lm) >= 7 && isLetter(lm[0]) && isLetter(lm[1]) && lm[2] == '0' && '7' <= lm[3] && lm[3] <= '9' &&
		isDigit(lm[4]) && isDigit(lm[5]) && isLetter(lm[6])
}

// archosTablet reports Archos models whose number, the screen size in tenths
// of an inch or whole inches past 10, is a tablet's: "Archos 70 Xenon",
// "Archos Core 101 3G", not "Archos 50 Titanium".
func archosTablet(lm string) bool {
	i := strings.Index(lm, "archos")
	if i < 0 {
		return false
	}
	rest := strings.TrimLeft(lm[i+len("archos"):], " _")
	for _, w := range []string{"core ", "access ", "core_", "access_"} {
		rest = strings.TrimPrefix(rest, w)
	}
	n, k := leadingInt(rest)
	return k >= 2 && n >= 70
}

// foldableModelRules are model prefixes of foldable phones, in lower case:
// unfolded, their browsers leave "Mobile" out as a tablet's do, but they
// are phones. Samsung's Galaxy Z Fold (SM-F9..), Huawei's Mate X (TAH, TET,
// PAL, GRL, ICL), Honor's Magic V (MGI, VCA, FCP), Google's Pixel Fold;
// Vivo's codes are handled by vivoPhoneModel.
var foldableModelRules = []modelRule{
	{"sm-f9", nextDigit}, {"tah-", nextAny}, {"tet-", nextAny}, {"pal-", nextAny}, {"grl-", nextAny},
	{"icl-", nextAny}, {"mgi-", nextAny}, {"vca-", nextAny}, {"fcp-", nextAny}, {"pixel fold", nextAny},
}

// isFoldableModel reports foldable phones (foldableModelRules) and Vivo's
// phones, whose codes are "V" and four digits ("V2229A", "V2330"); Vivo's
// pads are "PA" codes.
func isFoldableModel(lm string) bool {
	for _, r := range foldableModelRules {
		if strings.HasPrefix(lm, r.prefix) && r.next.matches(lm[len(r.prefix):]) {
			return true
		}
	}
	return len(lm) >= 5 && lm[0] == 'v' && isDigit(lm[1]) && isDigit(lm[2]) && isDigit(lm[3]) && isDigit(lm[4]) &&
		(len(lm) == 5 || (len(lm) == 6 && isLetter(lm[5])))
}

// computerModels, in lower case, are families of laptops and desktops: an
// Android user agent that names one comes from Android running on a PC
// (Android-x86 and its kin, Chromebooks running Android apps).
var computerModels = []string{
	"chromebook", "chromebox", "pixelbook", "inspiron", "latitude", "vostro", "optiplex", "elitebook",
	"probook", "pavilion", "compaq", "elitedesk", "prodesk", "thinkpad", "thinkcentre", "ideacentre",
	"aspire", "travelmate", "extensa", "veriton", "satellite", "tecra", "portege", "easynote",
	"vivobook", "zenbook", "macbook", "notebook", "laptop", "netbook", "desktop", "2in1",
	"all-in-one", "galaxy book", "vaio", "remix mini", "bilimbook",
}

var computerModelMatcher = newMatcher(computerModels)

// isComputerModel reports Android models that are laptops or desktops
// (computerModels, at the start of a word).
func isComputerModel(lm string) bool {
	return lm != "" && computerModelMatcher.anyWordPrefix(lm)
}
