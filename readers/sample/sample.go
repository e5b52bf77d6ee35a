// Package sample embeds the bundled sample shards: two accounts (blog, shop),
// seven days (2024-08-01 to 2024-08-07), a few thousand page views made by
// `pvjobs gen`. `pvjobs run` reads it when no --source is given.
package sample

import (
	"embed"
	"io/fs"
)

//go:embed *.mpk.gz
var files embed.FS

// FS returns the sample shard files.
func FS() fs.FS { return files }

// Name is how messages name the embedded sample.
const Name = "embedded sample"
