package geo

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// loadHuge reads the file at path into anonymous memory backed by huge
// pages where the kernel grants them (MADV_HUGEPAGE), and returns the
// memory and the function that releases it. A lookup walks some 30 nodes
// scattered over a 60 MB database: with 4 KiB pages of a mapped file nearly
// every node costs a TLB miss as well as a cache miss; with 2 MiB pages the
// whole database needs some 30 TLB entries. ok is false when anonymous
// memory cannot be had; the caller then maps the file as usual.
func loadHuge(path string) (buf []byte, release func() error, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, false, err
	}
	size := int(st.Size())
	if size <= 0 || int64(size) != st.Size() {
		return nil, nil, false, nil
	}
	const huge = 2 << 20
	mem, err := syscall.Mmap(-1, 0, (size+huge-1)/huge*huge, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, false, nil
	}
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE; refused on kernels without it, harmless
	if _, err := io.ReadFull(f, mem[:size]); err != nil {
		_ = syscall.Munmap(mem)
		return nil, nil, false, fmt.Errorf("reading: %w", err)
	}
	return mem[:size:size], func() error { return syscall.Munmap(mem) }, true, nil
}
