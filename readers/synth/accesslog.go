package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// WriteAccessLog writes every page view of the generator, shard by shard,
// as a line of the combined log format (Apache's and nginx's default:
// `ip - - [time] "GET path HTTP/1.1" 200 size "referrer" "user agent"`), the
// request being the page's path and query, so a log analyser such as
// GoAccess sees the same page views as pvjobs. It returns the number of
// lines written.
func (g *Generator) WriteAccessLog(ctx context.Context, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var n int64
	for _, k := range g.Shards() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		err := g.stream(k, true, func(_ [16]byte, _, line []byte) error {
			n++
			_, err := bw.Write(line)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("writing the access log of shard %s: %w", k, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("writing the access log: %w", err)
	}
	return n, nil
}
