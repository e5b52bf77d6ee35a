package synth

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// realAgents is the npm package user-agents' table of real browsers with
// their weights (see agents/refresh.sh and agents/LICENSE.user-agents).
//
//go:embed agents/user-agents.tsv
var realAgents string

// weighted draws items with given weights by binary search over their
// cumulative sums.
type weighted[T any] struct {
	items []T
	cum   []float64
}

func (w *weighted[T]) add(item T, weight float64) {
	if weight <= 0 {
		return
	}
	total := weight
	if n := len(w.cum); n > 0 {
		total += w.cum[n-1]
	}
	w.items = append(w.items, item)
	w.cum = append(w.cum, total)
}

func (w *weighted[T]) total() float64 { return w.cum[len(w.cum)-1] }

// at returns the item at x in [0, 1).
func (w *weighted[T]) at(x float64) T {
	t := x * w.total()
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] > t {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return w.items[lo]
}

func (w *weighted[T]) pick(r *rand.Rand) T { return w.at(r.Float64()) }

// agentShareVariants is the share of human visitors whose user agent is
// one of the generated long-tail variants rather than one of the real
// table's strings.
const agentShareVariants = 0.25

// makeAgents returns the human user agents: the real table with its
// weights (1 - agentShareVariants of visitors) and n generated variants of
// real shapes sharing the rest with Zipf-like weights, so a few variants
// are common and most are rare, as in real logs.
func makeAgents(n int, seed uint64) *weighted[string] {
	w := &weighted[string]{}
	var real []string
	var weights []float64
	sum := 0.0
	for _, line := range strings.Split(realAgents, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		ws, ua, ok := strings.Cut(line, "\t")
		f, err := strconv.ParseFloat(ws, 64)
		if !ok || err != nil {
			panic("synth: bad line in agents/user-agents.tsv: " + line)
		}
		real = append(real, ua)
		weights = append(weights, f)
		sum += f
	}
	share := 1.0
	if n > 0 {
		share = 1 - agentShareVariants
	}
	for i, ua := range real {
		w.add(ua, share*weights[i]/sum)
	}
	if n <= 0 {
		return w
	}
	r := rand.New(rand.NewPCG(seed, 0xa9e47))
	seen := make(map[string]bool, n)
	for _, ua := range real {
		seen[ua] = true
	}
	var variants []string
	for tries := 0; len(variants) < n && tries < n*20; tries++ {
		ua := agentShapes.pick(r)(r)
		if !seen[ua] {
			seen[ua] = true
			variants = append(variants, ua)
		}
	}
	h := 0.0
	for i := range variants {
		h += 1 / float64(i+1)
	}
	for i, ua := range variants {
		w.add(ua, agentShareVariants/(float64(i+1)*h))
	}
	return w
}

// agentShapes are real user-agent shapes with weights; each fills in
// versions, devices and in-app details, which is where the long tail of
// distinct strings in real logs comes from.
var agentShapes = func() *weighted[func(*rand.Rand) string] {
	w := &weighted[func(*rand.Rand) string]{}
	pick := func(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
	androidModels := []string{"SM-G991B", "SM-A525F", "SM-S911B", "SM-A145R", "SM-G781B", "SM-S918U", "SM-A546E",
		"Pixel 7", "Pixel 6a", "Pixel 8 Pro", "Pixel 9", "M2101K6G", "23049PCD8G", "2201117TY", "Redmi Note 9 Pro",
		"moto g(30)", "moto g54 5G", "CPH2211", "CPH2437", "RMX3630", "V2204", "TECNO KG5k", "Infinix X6816",
		"LE2123", "NE2213", "A063", "SO-51C", "HUAWEI P30 lite", "ELE-L29", "Nokia G21"}
	tabletModels := []string{"SM-T870", "SM-X200", "SM-X710", "SM-P610", "Lenovo TB-X606F", "TB328FU", "KFTRWI", "KFMAWI", "2107113SG"}
	iosVer := func(r *rand.Rand) (string, string) {
		major := 15 + r.IntN(4)
		minor := r.IntN(7)
		return fmt.Sprintf("%d_%d", major, minor), fmt.Sprintf("%d.%d", major, minor)
	}
	chrome := func(r *rand.Rand) int { return 110 + r.IntN(20) }
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36",
			10+r.IntN(5), pick(r, androidModels), chrome(r), 5000+r.IntN(1500), r.IntN(200))
	}, 20)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%d.0 Chrome/%d.0.0.0 Mobile Safari/537.36",
			11+r.IntN(4), pick(r, androidModels[:7]), 20+r.IntN(6), chrome(r))
	}, 6)
	w.add(func(r *rand.Rand) string {
		u, v := iosVer(r)
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%s Mobile/15E148 Safari/604.1", u, v)
	}, 12)
	w.add(func(r *rand.Rand) string {
		u, _ := iosVer(r)
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram %d.0.%d.%d.%d (iPhone%d,%d; iOS %s; %s; %s; scale=3.00; 1170x2532; %d)",
			u, 280+r.IntN(80), r.IntN(5), 10+r.IntN(30), 50+r.IntN(80), 12+r.IntN(5), 1+r.IntN(5), u,
			pick(r, []string{"en_US", "de_DE", "fr_FR", "es_ES", "pt_BR", "en_GB", "it_IT"}), pick(r, []string{"en", "de", "fr", "es", "pt", "it"}), 400000000+r.IntN(200000000))
	}, 6)
	w.add(func(r *rand.Rand) string {
		u, _ := iosVer(r)
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/%d.0.0.%d.%d;FBBV/%d;FBDV/iPhone%d,%d;FBMD/iPhone;FBSN/iOS;FBSV/%s;FBSS/3;FBID/phone;FBLC/%s;FBOP/5]",
			u, 400+r.IntN(80), 10+r.IntN(60), 100+r.IntN(50), 500000000+r.IntN(100000000), 12+r.IntN(5), 1+r.IntN(5), strings.ReplaceAll(u, "_", "."),
			pick(r, []string{"en_US", "de_DE", "fr_FR", "es_LA", "pt_BR", "en_GB"}))
	}, 4)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36",
			chrome(r), 5000+r.IntN(1500), r.IntN(200))
	}, 16)
	w.add(func(r *rand.Rand) string {
		c := chrome(r)
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.%d.%d",
			c, c, 1000+r.IntN(1500), r.IntN(100))
	}, 6)
	w.add(func(r *rand.Rand) string {
		c := chrome(r)
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 OPR/%d.0.%d.%d",
			c, c-14, 4000+r.IntN(1000), r.IntN(300))
	}, 2)
	w.add(func(r *rand.Rand) string {
		v := 110 + r.IntN(20)
		return fmt.Sprintf("Mozilla/5.0 (%s; rv:%d.0) Gecko/20100101 Firefox/%d.0",
			pick(r, []string{"Windows NT 10.0; Win64; x64", "X11; Linux x86_64", "X11; Ubuntu; Linux x86_64", "Macintosh; Intel Mac OS X 10.15", "Windows NT 6.1; Win64; x64"}), v, v)
	}, 6)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Safari/605.1.15", 15+r.IntN(4), r.IntN(7))
	}, 6)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", chrome(r))
	}, 2)
	w.add(func(r *rand.Rand) string {
		u, v := iosVer(r)
		return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%s Mobile/15E148 Safari/604.1", u, v)
	}, 4)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36",
			10+r.IntN(5), pick(r, tabletModels), chrome(r), 5000+r.IntN(1500), r.IntN(200))
	}, 3)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (X11; CrOS x86_64 %d.%d.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 14000+r.IntN(2000), r.IntN(200), chrome(r))
	}, 1)
	w.add(func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (SMART-TV; Linux; Tizen %d.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%d.0 Chrome/%d.0.0.0 TV Safari/537.36", 5+r.IntN(3), 4+r.IntN(3), 85+r.IntN(20))
	}, 0.5)
	return w
}()
