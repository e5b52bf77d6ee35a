package hll

// SetRegisterForTest raises register i to v, for tests that need registers no
// hash search would find quickly.
func (s *Sketch) SetRegisterForTest(i int, v uint8) bool {
	return s.set(uint32(i), v)
}

// IsDenseForTest reports whether the sketch uses one byte per register.
func (s *Sketch) IsDenseForTest() bool {
	return s.dense != nil
}
