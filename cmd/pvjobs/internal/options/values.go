package options

import (
	"fmt"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Values holds the value of every option, resolved by Resolve: each field is
// the value of one row of the Table (or of several rows that are one option
// in several commands), parsed and checked.
type Values struct {
	// Global options.
	LogLevel, LogFormat string

	// What a run reads.
	Source   string
	Accounts []string
	From, To string
	TZ       string

	// What a run makes and where it writes it.
	Jobs       []string
	Out        []string
	CSVPattern string
	CSVRaw     bool
	// HTMLPattern and HTMLIndex name the HTML report's pages; HTMLTop is
	// the rows its tables show.
	HTMLPattern, HTMLIndex string
	HTMLTop                int
	Top                    int
	Quiet                  bool
	Slices                 int
	Workers                int
	MaxBadRows             mapreduce.Budget
	AllowEmpty             bool
	MaxRows                int
	VisitTimeout           time.Duration
	// Compare is none or previous.
	Compare string
	// MaxRowSize bounds a page view's bytes in shard files (0: the
	// default).
	MaxRowSize      int
	StripQuery      bool
	IncludeBots     bool
	ExactUniques    bool
	InternalDomains []string
	SpamDomains     []string
	IncludeSpam     bool
	GeoIP           string
	// UVGranularity is hour or minute: see UniqueMinutes.
	UVGranularity string

	// Operating a run.
	Config string
	// Job is the config file's job being run ("" when none): the job label
	// of metrics.
	Job         string
	Yesterday   bool
	Today       bool
	Last, Now   string
	DryRun      bool
	Timeout     time.Duration
	MetricsFile string
	Progress    string

	// Shards of a run (see package sharding): --shard I/N, --shard-count
	// N (with JOB_COMPLETION_INDEX), --shard-by account or day, --partials
	// (one directory for run; files or directories for merge), --run-id.
	Shard      string
	ShardCount int
	ShardBy    string
	Partials   []string
	RunID      string

	// Keys of config jobs without a flag.
	Schedule string
	Range    daterange.Window
	CatchUp  time.Duration

	// pvjobs schedule.
	ScheduleJobs []string
	Lock         string
	LockTTL      time.Duration
	State        string
	MetricsAddr  string

	// Redis holds the settings of Redis outputs and of --lock.
	Redis Redis
	// RedisURL is uniques' --redis.
	RedisURL string

	// Cassandra holds the --cql-* parameters given, keyed by their name in a
	// cassandra:// URL's query; they override the URL.
	Cassandra map[string]string
	// CassandraURL is the table of load and schema (--cassandra).
	CassandraURL string
	Replication  string
	Apply        bool

	// Collect holds the options of pvjobs collect.
	Collect CollectValues

	// gen, load, export, uniques.
	// KeepSpool keeps a spool's shard files after pvjobs load loaded them.
	KeepSpool  bool
	ToDir      string
	RowsPerDay int
	Pages      int
	Agents     int
	// BotPercent is gen's share of page views made by bots, in percent.
	BotPercent int
	// IPs is where gen's visitor addresses come from: sample or public.
	IPs string
	// AccessLog is the combined log gen also writes, or "".
	AccessLog string
	Seed      uint64
	Gzip      bool
	Verbose   bool
}

// Redis holds the settings of a Redis connection and of the Redis sink.
type Redis struct {
	Prefix          string
	Batch, Pipeline int
	Top             int
	TTL             time.Duration
	Range           bool
	UVMerge         bool
	Cluster         bool
	Timeout         time.Duration
	User            string
	// Password comes from $PVJOBS_REDIS_PASSWORD only.
	Password      string
	CA, Cert, Key string
}

// UniqueMinutes reports whether the uniques job makes minute sketches
// (--uv-granularity minute).
func (v *Values) UniqueMinutes() bool { return v.UVGranularity == "minute" }

// setter stores a value somewhere other than a field of Values.
type setter func(x any)

// store stores x, the parsed value of o, in v.
func (o *Option) store(v *Values, x any) {
	switch p := o.bind(v).(type) {
	case *string:
		*p = x.(string)
	case *int:
		*p = x.(int)
	case *uint64:
		*p = x.(uint64)
	case *bool:
		*p = x.(bool)
	case *[]string:
		*p = x.([]string)
	case *time.Duration:
		*p = x.(time.Duration)
	case *mapreduce.Budget:
		*p = x.(mapreduce.Budget)
	case *daterange.Window:
		*p = x.(daterange.Window)
	case setter:
		p(x)
	default:
		panic(fmt.Sprintf("options: %s is bound to a %T", o.Name, p))
	}
}

// CollectValues holds the options of pvjobs collect.
type CollectValues struct {
	Listen, Spool, Fsync string
	AccountsFile         string
	TrustedProxies       []string
	AnonymizeIP          bool
	RespectDNT           bool
	RateLimit, RateBurst int
	MaxBody              int
	// MaxConnections caps the open client connections (0: no limit).
	MaxConnections int
	Queue, Writers int
	DrainTimeout   time.Duration
	// Live is --live, the Redis of the live counters.
	Live string
}
