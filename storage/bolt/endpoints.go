package bolt

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// Names of an endpoint's sealed secrets (and of a callback's).
const (
	secretAuthPassword  = "auth_password"
	secretAuthToken     = "auth_token"
	secretSigningSecret = "signing_secret"
	secretClientSecret  = "auth_client_secret"
	secretProxyPassword = "proxy_password"
	secretTLSClientKey  = "tls_client_key"
)

// endpointRecord is an endpoint as stored: the secrets (which storage.Endpoint
// never serialises) sealed one by one, each bound to the endpoint's id and
// the secret's name.
type endpointRecord struct {
	diskEndpoint
	Sealed   map[string][]byte `json:"sealed_secrets,omitempty"`
	Previous []sealedOldSecret `json:"sealed_previous_secrets,omitempty"`
}

// sealedOldSecret is a rotated-out signing secret, sealed.
type sealedOldSecret struct {
	Sealed  []byte    `json:"sealed"`
	Expires time.Time `json:"expires"`
}

func endpointAAD(id, name string) []byte { return []byte("endpoint/" + id + "/" + name) }

// previousName names the i-th previous signing secret in its AAD.
func previousName(i int) string { return "previous_secret/" + strconv.Itoa(i) }

// sealAuth seals an Auth's secrets under aad(name); empty ones are left out.
func (s *Store) sealAuth(into map[string][]byte, a storage.Auth, aad func(name string) []byte) {
	if a.Password != "" {
		into[secretAuthPassword] = s.sealer.Seal([]byte(a.Password), aad(secretAuthPassword))
	}
	if a.Token != "" {
		into[secretAuthToken] = s.sealer.Seal([]byte(a.Token), aad(secretAuthToken))
	}
	if a.ClientSecret != "" {
		into[secretClientSecret] = s.sealer.Seal([]byte(a.ClientSecret), aad(secretClientSecret))
	}
}

// openAuth opens what sealAuth sealed.
func (s *Store) openAuth(a *storage.Auth, sealed map[string][]byte, aad func(name string) []byte) error {
	return s.openNamed(sealed, aad, map[string]*string{secretAuthPassword: &a.Password, secretAuthToken: &a.Token, secretClientSecret: &a.ClientSecret})
}

// openNamed opens the secrets sealed under the names of dst into their
// strings; names not sealed are left alone.
func (s *Store) openNamed(sealed map[string][]byte, aad func(name string) []byte, dst map[string]*string) error {
	for name, dst := range dst {
		v, ok := sealed[name]
		if !ok {
			continue
		}
		plain, err := s.sealer.Open(v, aad(name))
		if err != nil {
			return fmt.Errorf("secret %q: %w", name, err)
		}
		*dst = string(plain)
	}
	return nil
}

// sealEndpoint makes e's stored form. It runs outside the write
// transaction: sealing draws random nonces.
func (s *Store) sealEndpoint(e storage.Endpoint) endpointRecord {
	aad := func(name string) []byte { return endpointAAD(e.ID, name) }
	r := endpointRecord{diskEndpoint: toDiskEndpoint(&e), Sealed: map[string][]byte{}}
	s.sealAuth(r.Sealed, e.Auth, aad)
	for name, v := range map[string]string{secretSigningSecret: e.SigningSecret, secretProxyPassword: e.ProxyPassword, secretTLSClientKey: e.TLS.ClientKeyPEM} {
		if v != "" {
			r.Sealed[name] = s.sealer.Seal([]byte(v), aad(name))
		}
	}
	for i, old := range e.PreviousSecrets {
		r.Previous = append(r.Previous, sealedOldSecret{
			Sealed:  s.sealer.Seal([]byte(old.Secret), aad(previousName(i))),
			Expires: old.Expires,
		})
	}
	// Secret headers and every cookie: sealed one by one, under their
	// names, and left out of the record's plain maps.
	// Credential-like headers are sealed even when a caller left them out
	// of SecretHeaders.
	r.Headers = s.sealValues(r.Sealed, "header/", e.Headers, func(k string) bool {
		return slices.Contains(e.SecretHeaders, k) || redact.CredentialHeader(k)
	}, aad)
	r.Cookies = s.sealValues(r.Sealed, "cookie/", e.Cookies, func(string) bool { return true }, aad)
	// Plaintext stays out of the record whatever the JSON tags say.
	r.Auth.Password, r.Auth.Token, r.Auth.ClientSecret, r.TLS.ClientKeyPEM = "", "", "", ""
	return r
}

// sealValues seals the values of m whose names pick chooses into into,
// under prefix+name, and returns m without them (m itself when none is
// chosen, nil when none is left). A record stored before headers and
// cookies were sealed keeps them in its plain maps, which still load; the
// next save seals them.
func (s *Store) sealValues(into map[string][]byte, prefix string, m map[string]string, pick func(name string) bool, aad func(name string) []byte) map[string]string {
	var plain map[string]string
	for k, v := range m {
		if !pick(k) {
			continue
		}
		if plain == nil {
			plain = maps.Clone(m)
		}
		into[prefix+k] = s.sealer.Seal([]byte(v), aad(prefix+k))
		delete(plain, k)
	}
	if plain == nil {
		return m
	}
	if len(plain) == 0 {
		return nil
	}
	return plain
}

// openValues opens what sealValues sealed under prefix into m (made when
// nil; the maps given come from a record just decoded, shared with no one).
func (s *Store) openValues(m map[string]string, prefix string, sealed map[string][]byte, aad func(name string) []byte) (map[string]string, error) {
	for sealedName, v := range sealed {
		name, ok := strings.CutPrefix(sealedName, prefix)
		if !ok {
			continue
		}
		plain, err := s.sealer.Open(v, aad(sealedName))
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", sealedName, err)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[name] = string(plain)
	}
	return m, nil
}

func (s *Store) openEndpoint(r endpointRecord) (storage.Endpoint, error) {
	e := r.endpoint()
	aad := func(name string) []byte { return endpointAAD(e.ID, name) }
	if err := s.openAuth(&e.Auth, r.Sealed, aad); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", e.ID, err)
	}
	if err := s.openNamed(r.Sealed, aad, map[string]*string{secretSigningSecret: &e.SigningSecret,
		secretProxyPassword: &e.ProxyPassword, secretTLSClientKey: &e.TLS.ClientKeyPEM}); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", e.ID, err)
	}
	var err error
	if e.Headers, err = s.openValues(e.Headers, "header/", r.Sealed, aad); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", e.ID, err)
	}
	if e.Cookies, err = s.openValues(e.Cookies, "cookie/", r.Sealed, aad); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", e.ID, err)
	}
	e.PreviousSecrets = nil
	for i, old := range r.Previous {
		plain, err := s.sealer.Open(old.Sealed, aad(previousName(i)))
		if err != nil {
			return storage.Endpoint{}, fmt.Errorf("endpoint %s secret %q: %w", e.ID, previousName(i), err)
		}
		e.PreviousSecrets = append(e.PreviousSecrets, storage.OldSecret{Secret: string(plain), Expires: old.Expires})
	}
	return e, nil
}

// ListEndpoints returns every endpoint, oldest first.
func (s *Store) ListEndpoints(ctx context.Context) ([]storage.Endpoint, error) {
	var recs []endpointRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEndpoints).ForEach(func(k, v []byte) error {
			var r endpointRecord
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("endpoint %s: %w", idOf(k), err)
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	out := make([]storage.Endpoint, 0, len(recs))
	for _, r := range recs {
		e, err := s.openEndpoint(r)
		if err != nil {
			return nil, fmt.Errorf("list endpoints: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// GetEndpoint returns one endpoint with its secrets opened.
func (s *Store) GetEndpoint(ctx context.Context, id string) (storage.Endpoint, error) {
	k, err := key(id)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %w", err)
	}
	var r endpointRecord
	err = s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketEndpoints), k, &r) })
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return s.openEndpoint(r)
}

// CreateEndpoint stores e with a new id.
func (s *Store) CreateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error) {
	id, k, err := newID()
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("create endpoint: %w", err)
	}
	now := s.now().UTC()
	e.ID, e.CreatedAt, e.UpdatedAt = id, now, now
	r := s.sealEndpoint(e)
	err = s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error { return putRecord(tx.Bucket(bucketEndpoints), k, r) })
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("create endpoint: %w", err)
	}
	return e, nil
}

// UpdateEndpoint replaces every field of e.ID but its creation time,
// secrets included.
func (s *Store) UpdateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error) {
	k, err := key(e.ID)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("update endpoint: %w", err)
	}
	e.UpdatedAt = s.now().UTC()
	r := s.sealEndpoint(e)
	err = s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEndpoints)
		var old endpointRecord
		if err := getRecord(b, k, &old); err != nil {
			return err
		}
		r.CreatedAt = old.CreatedAt
		r.diskHealth = old.diskHealth // the engine's, see SetEndpointHealth
		return putRecord(b, k, r)
	})
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	e.CreatedAt, e.EndpointHealth = r.CreatedAt, storage.EndpointHealth(r.diskHealth)
	return e, nil
}

// DeleteEndpoint removes an endpoint. Its deliveries, and their index
// entries, stay until purged.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEndpoints)
		if b.Get(k) == nil {
			return storage.ErrNotFound
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	return nil
}

// SetEndpointHealth replaces the endpoint's health and nothing else (not
// even UpdatedAt, which tracks configuration changes).
func (s *Store) SetEndpointHealth(ctx context.Context, id string, h storage.EndpointHealth) (storage.Endpoint, error) {
	k, err := key(id)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("set endpoint health: %w", err)
	}
	var r endpointRecord
	err = s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEndpoints)
		r = endpointRecord{}
		if err := getRecord(b, k, &r); err != nil {
			return err
		}
		r.diskHealth = diskHealth(h)
		return putRecord(b, k, r)
	})
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("set endpoint health %s: %w", id, err)
	}
	return s.openEndpoint(r)
}
