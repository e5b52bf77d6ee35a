//go:build unix

package collector

import (
	"os"
	"syscall"
)

// inode returns the file's inode number, so a file replaced by rename (same
// size and time) is noticed.
func inode(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}
