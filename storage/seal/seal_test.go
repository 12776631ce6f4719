package seal_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-dev/switchyard/storage/seal"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	s, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("secret"), []byte("provider/1/token"))
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("plaintext visible")
	}
	if got, err := s.Open(sealed, []byte("provider/1/token")); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("provider/2/token")); err == nil {
		t.Fatal("opened under another owner")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, []byte("provider/1/token")); err == nil {
		t.Fatal("opened an altered value")
	}
	if _, err := s.Open([]byte{1, 2}, nil); err == nil {
		t.Fatal("opened a short value")
	}
	if _, err := seal.New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "instance.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := seal.LoadKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("the key changed between starts")
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	if k3, err := seal.LoadKey(dir, env); err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{9}, 32)) {
		t.Fatalf("environment key: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := seal.LoadKey(dir, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "instance.key"), []byte("garbage"), 0o600)
	if _, err := seal.LoadKey(bad, ""); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
}
