package cassandra_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/readers/cassandra"
)

// testPKI writes a CA, a server certificate for "cassandra.test" and a client
// certificate, all PEM, into dir.
type testPKI struct {
	caFile, certFile, keyFile string // CA; client cert and key
	server                    tls.Certificate
	pool                      *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	writePEM := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pvjobs test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(crand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(crand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = writePEM("ca.pem", "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, "cassandra.test", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "pvjobs", x509.ExtKeyUsageClientAuth)
	p.certFile = writePEM("client.pem", "CERTIFICATE", cliDER)
	kb, _ := x509.MarshalECPrivateKey(cliKey)
	p.keyFile = writePEM("client-key.pem", "EC PRIVATE KEY", kb)
	return p
}

// tlsServer accepts TLS connections and records whether a handshake
// completed; it speaks no CQL, so Open fails after the handshake. handshakes
// waits until every connection accepted so far has finished its handshake,
// then says how many completed.
func tlsServer(t *testing.T, cfg *tls.Config) (addr string, handshakes func() int) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	accepted, finished, ok := 0, 0, 0
	done := make(chan struct{}, 1) // a handshake finished
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				err := c.(*tls.Conn).Handshake()
				mu.Lock()
				finished++
				if err == nil {
					ok++
				}
				mu.Unlock()
				select {
				case done <- struct{}{}:
				default:
				}
			}()
		}
	}()
	return ln.Addr().String(), func() int {
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			all, n := finished == accepted, ok
			mu.Unlock()
			if all {
				return n
			}
			select {
			case <-done:
			case <-deadline:
				t.Fatal("the server's handshakes did not finish within 10s")
			}
		}
	}
}

// TestTLSOptions checks that the TLS parameters reach the handshake: the CA
// verifies the server under tls-server-name, the client certificate is sent,
// and an unknown CA is refused unless tls-insecure.
func TestTLSOptions(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name          string
		clientAuth    bool
		params        map[string]string
		wantHandshake bool
	}{
		{"CA and server name", false, map[string]string{"tls-ca": pki.caFile, "tls-server-name": "cassandra.test"}, true},
		{"client certificate", true, map[string]string{"tls-ca": pki.caFile, "tls-server-name": "cassandra.test", "tls-cert": pki.certFile, "tls-key": pki.keyFile}, true},
		{"client certificate missing", true, map[string]string{"tls-ca": pki.caFile, "tls-server-name": "cassandra.test"}, false},
		{"wrong server name", false, map[string]string{"tls-ca": pki.caFile, "tls-server-name": "other.test"}, false},
		{"unknown CA", false, map[string]string{"tls": "true"}, false},
		{"unknown CA, insecure", false, map[string]string{"tls-insecure": "true"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scfg := &tls.Config{Certificates: []tls.Certificate{pki.server}}
			if tt.clientAuth {
				scfg.ClientAuth, scfg.ClientCAs = tls.RequireAndVerifyClientCert, pki.pool
			}
			addr, handshakes := tlsServer(t, scfg)
			cfg := cassandra.NewConfig("pv", addr)
			cfg.ConnectTimeout = 2 * time.Second
			retries := 0
			cfg.OnRetry = func(cassandra.RetryEvent) { retries++ }
			for k, v := range tt.params {
				if err := cfg.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			tbl, err := cassandra.Open(context.Background(), cfg)
			if err == nil {
				tbl.Close()
				t.Fatal("Open succeeded against a server that speaks no CQL")
			}
			if got := handshakes() > 0; got != tt.wantHandshake {
				t.Errorf("handshake completed: %v, want %v (Open: %v)", got, tt.wantHandshake, err)
			}
			// The node answered: a failed session is not worth retrying.
			if retries > 0 {
				t.Errorf("Open retried %d times against a node that answers but refuses the session", retries)
			}
		})
	}
}
