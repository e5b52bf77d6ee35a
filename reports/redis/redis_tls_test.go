package redis_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// writeCert writes a certificate signed by parent (self-signed when parent
// is nil) and its key as PEM files dir/name.pem and dir/name.key.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

// TestTLS writes through rediss:// to a redis-server that requires TLS with
// client certificates.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey := writeCert(t, dir, "ca", &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pvjobs test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	writeCert(t, dir, "server", &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	writeCert(t, dir, "client", &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "pvjobs"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	srv := redistest.Start(t, redistest.Options{TLS: true, Args: []string{
		"--tls-cert-file", filepath.Join(dir, "server.pem"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "yes"}})

	url := "rediss://" + srv.Addr + "/0?prefix=pvtls"
	connect := func(ca, cert, key string) error {
		tg, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.SetTLS(ca, cert, key); err != nil {
			t.Fatal(err)
		}
		c := tg.NewClient()
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return redis.Check(ctx, c, redis.Keys{Prefix: "pvtls"})
	}
	redistest.WaitFor(t, 20*time.Second, "redis-server to answer over TLS", func() bool {
		return connect(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")) == nil
	})
	if err := connect("", filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
	if err := connect(filepath.Join(dir, "ca.pem"), "", ""); err == nil {
		t.Errorf("without a client certificate: no error")
	}

	tg, _ := redis.ParseURL(url)
	tg.SetTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
	if s := tg.String(); !strings.Contains(s, "(TLS)") {
		t.Errorf("String() = %q, want it to say TLS", s)
	}
	c := tg.NewClient()
	defer c.Close()
	p := plan(t, time.UTC, "2024-08-01", 1, "blog")
	write(t, c, redis.Options{Prefix: tg.Prefix}, []mapreduce.Report{{Name: "urls", Keys: []string{"url"}, Rows: countRows(p, "blog", 10, 1)}}, p)
	if n := c.ZCard(context.Background(), "pvtls:{blog}:urls:20240801").Val(); n != 10 {
		t.Errorf("ZCARD over TLS = %d, want 10", n)
	}
}
