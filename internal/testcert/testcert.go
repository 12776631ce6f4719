// Package testcert makes certificates for tests: a CA, a server
// certificate and a client certificate it signs, each with its key, as
// PEM. Nothing here is for production use.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// ServerName is a name the server certificate holds beside localhost,
// 127.0.0.1 and ::1: a test's tls.server_name.
const ServerName = "receiver.test"

// Set is a CA and two certificates it signed, as PEM.
type Set struct {
	CAPEM                       string
	ServerCertPEM, ServerKeyPEM string
	ClientCertPEM, ClientKeyPEM string
	// Pool holds the CA, for a server that verifies clients.
	Pool *x509.CertPool
}

// New makes a Set; the certificates are valid from an hour ago for a day.
func New(t testing.TB) *Set {
	t.Helper()
	caKey, caCert, caPEM := make1(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, nil)
	s := &Set{CAPEM: caPEM, Pool: x509.NewCertPool()}
	s.Pool.AddCert(caCert)
	key, _, certPEM := make1(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: ServerName}, DNSNames: []string{ServerName, "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, caKey)
	s.ServerCertPEM, s.ServerKeyPEM = certPEM, keyPEM(t, key)
	key, _, certPEM = make1(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "switchyard-client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	s.ClientCertPEM, s.ClientKeyPEM = certPEM, keyPEM(t, key)
	return s
}

// ServerTLS is a server config with the server certificate; it requires
// a client certificate signed by the CA when clientAuth is set.
func (s *Set) ServerTLS(t testing.TB, clientAuth bool) *tls.Config {
	t.Helper()
	cert, err := tls.X509KeyPair([]byte(s.ServerCertPEM), []byte(s.ServerKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, s.Pool
	}
	return cfg
}

var serial atomic.Int64

func make1(t testing.TB, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func keyPEM(t testing.TB, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
