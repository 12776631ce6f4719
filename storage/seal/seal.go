// Package seal encrypts secrets at rest with AES-256-GCM under the
// secrets key (SWITCHYARD_SECRET_KEY, a key file, or <data>/instance.key).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a secrets key in bytes.
const KeySize = 32

// Sealer seals and opens values with one key. It is safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: the secrets key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad (e.g. the owner's id and the secret's
// name) and returns nonce || ciphertext.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("seal: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad)
}

// Open reverses Seal. It fails if the value was sealed under another key or
// another aad, or was altered.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("seal: sealed value too short")
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, errors.New("seal: cannot open sealed value (wrong secrets key?)")
	}
	return out, nil
}

// KeyFile is the name of the key file LoadKey keeps in a data directory.
const KeyFile = "instance.key"

// LoadKey returns the secrets key: from env (base64, standard or URL
// alphabet) when it is not empty, otherwise from dir/instance.key, which is
// created (mode 0600) with a random key on first use.
func LoadKey(dir, env string) ([]byte, error) {
	if env = strings.TrimSpace(env); env != "" {
		key, err := ParseKey(env)
		if err != nil {
			return nil, fmt.Errorf("seal: the key given: %w", err)
		}
		return key, nil
	}
	path := filepath.Join(dir, KeyFile)
	key, err := ReadKeyFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := WriteSecretFile(path, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
		return nil, err
	}
	return key, nil
}

// ReadKeyFile reads a key from a file that holds its base64 (white space
// around it ignored). A missing file is an error that wraps
// os.ErrNotExist.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	key, err := ParseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	return key, nil
}

// ParseKey decodes a key from base64 (standard or URL alphabet, padded
// or not); it must be KeySize bytes.
func ParseKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("key must decode to %d bytes, got %d", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// WriteSecretFile creates path with mode 0600 and content, failing if it exists,
// and syncs it so a crash cannot leave an empty key behind.
func WriteSecretFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("seal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("seal: %w", err)
	}
	return f.Close()
}
