package devices_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// agentCase is one line of testdata/agents.tsv.
type agentCase struct {
	name, ua string
	want     mapreduce.Agent
}

// loadAgents reads testdata/agents.tsv: real-world user agents (browsers on
// phones, tablets, desktops, TVs and consoles, and robots of every kind) with
// the classification they must get.
func loadAgents(t testing.TB) []agentCase {
	t.Helper()
	f, err := os.Open("testdata/agents.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []agentCase
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 {
			t.Fatalf("testdata/agents.tsv:%d: %d fields, want 5", line, len(c))
		}
		cases = append(cases, agentCase{name: c[0], ua: c[4], want: mapreduce.Agent{
			Class: c[1], Browser: c[2], OS: c[3], Bot: c[1] == devices.Bot,
		}})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestClassify(t *testing.T) {
	for _, c := range loadAgents(t) {
		t.Run(c.name, func(t *testing.T) {
			if got := devices.Classify(c.ua); got != c.want {
				t.Errorf("Classify(%q)\n got %+v\nwant %+v", c.ua, got, c.want)
			}
		})
	}
}

// TestClassifyCoverage keeps the test table broad: every class and the main
// kinds of robots must stay represented.
func TestClassifyCoverage(t *testing.T) {
	count := map[string]int{}
	for _, c := range loadAgents(t) {
		count[c.want.Class]++
		count[strings.SplitN(c.name, "/", 3)[0]+"/"+strings.SplitN(c.name, "/", 3)[1]]++
	}
	for _, k := range []string{devices.Desktop, devices.Mobile, devices.Tablet, devices.Bot} {
		if count[k] < 25 {
			t.Errorf("%d cases of class %s, want at least 25", count[k], k)
		}
	}
}

func TestClassifyEdges(t *testing.T) {
	long := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 " + strings.Repeat("x", 1<<20)
	tests := []struct {
		name, ua  string
		wantClass string
	}{
		{"leading and trailing space", "  Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1\n", devices.Mobile},
		{"megabyte header is cut", long, devices.Desktop},
		{"invalid utf-8", "Mozilla/5.0 (\xff\xfe; Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", devices.Mobile},
		{"unclosed comment", "Mozilla/5.0 (Linux; Android 10; K", devices.Mobile},
		{"nul bytes", "\x00\x00\x00", devices.Bot},
		{"carrier T-Mobile is not Mobile", "Mozilla/5.0 (Linux; Android 11; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;FBCR/T-Mobile;]", devices.Tablet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := devices.Classify(tt.ua)
			if got.Class != tt.wantClass {
				t.Errorf("Classify(%.80q).Class = %q, want %q (%+v)", tt.ua, got.Class, tt.wantClass, got)
			}
			for _, f := range []string{got.Browser, got.OS} {
				if f == "" || strings.ContainsAny(f, "\t\n\r") {
					t.Errorf("Classify(%.80q) has a bad family %q", tt.ua, f)
				}
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range loadAgents(f) {
		f.Add(c.ua)
	}
	f.Add("Mozilla/5.0 (compatible; MSIE")
	f.Add("(((((((")
	f.Add("Mozilla/5.0 (Linux; Android 3.")
	f.Fuzz(func(t *testing.T, ua string) {
		a := devices.Classify(ua)
		switch a.Class {
		case devices.Desktop, devices.Mobile, devices.Tablet, devices.Unknown:
			if a.Bot {
				t.Errorf("Classify(%q) = %+v: Bot set for class %s", ua, a, a.Class)
			}
		case devices.Bot:
			if !a.Bot {
				t.Errorf("Classify(%q) = %+v: Bot not set", ua, a)
			}
		default:
			t.Fatalf("Classify(%q) = %+v: class %q", ua, a, a.Class)
		}
		for _, f := range []string{a.Browser, a.OS} {
			if f == "" || strings.ContainsAny(f, "\t\n\r") {
				t.Errorf("Classify(%q) = %+v: bad family %q", ua, a, f)
			}
		}
		if b := devices.Classify(ua); b != a {
			t.Errorf("Classify(%q) is not deterministic: %+v, then %+v", ua, a, b)
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	cases := loadAgents(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		devices.Classify(cases[i%len(cases)].ua)
		i++
	}
}
