package options

// Test hooks.

// Bind returns where o's value goes in v.
func (o *Option) Bind(v *Values) any { return o.bind(v) }

// Store stores x in v as Resolve does.
func (o *Option) Store(v *Values, x any) { o.store(v, x) }
