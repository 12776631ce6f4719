// Package access decides who may do what: roles and their permissions,
// password hashing (argon2id), personal API tokens and session secrets,
// and the Authenticator, which finds who presents a token or a session
// cookie and signs users in, on the part of the store declared by Store.
// The server's middleware applies it to every admin API route.
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/switchyard-dev/switchyard/storage"
)

// Permission is what a route needs.
type Permission string

// Permissions, each role holding its own and those of the roles below.
const (
	// Read: lists and statuses (no headers, payloads or logs).
	Read Permission = "read"
	// Operate: message details, payloads and logs; resubmit, dry runs,
	// signature checks; delivery details and replays.
	Operate Permission = "operate"
	// Edit: providers, functions, endpoints, events, the outbound switch.
	Edit Permission = "edit"
	// Admin: users, other people's tokens, the audit log.
	Admin Permission = "admin"
)

// Roles lists the roles, most powerful first.
var Roles = []string{storage.RoleAdmin, storage.RoleEditor, storage.RoleOperator, storage.RoleViewer}

var grants = map[string][]Permission{
	storage.RoleAdmin:    {Read, Operate, Edit, Admin},
	storage.RoleEditor:   {Read, Operate, Edit},
	storage.RoleOperator: {Read, Operate},
	storage.RoleViewer:   {Read},
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { _, ok := grants[role]; return ok }

// Allows reports whether role holds p.
func Allows(role string, p Permission) bool { return slices.Contains(grants[role], p) }

// Principal is who makes a request.
type Principal struct {
	UserID string // "" for the bootstrap admin token
	Name   string // the user's name, or "admin-token"
	Role   string
	Via    string // "admin-token", "token" or "session"
	// SessionID and CSRF are set for a UI session.
	SessionID string
	CSRF      string
}

// Can reports whether the principal holds p.
func (p Principal) Can(perm Permission) bool { return Allows(p.Role, perm) }

// Password hashing: argon2id with the parameters OWASP recommends as a
// minimum (19 MiB, 2 passes, 1 thread), in PHC string form.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
	// MinPasswordLen is the shortest password accepted.
	MinPasswordLen = 10
)

// HashPassword returns the PHC string of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is compared against when a name is unknown, so that a wrong
// name takes as long as a wrong password.
var dummyHash, _ = HashPassword("switchyard-no-such-user")

// CheckPassword reports whether password matches the PHC hash; an empty
// or malformed hash never matches (but takes the same time).
func CheckPassword(hash, password string) bool {
	if hash == "" {
		hash = dummyHash
		password += "\x00" // never matches the dummy
	}
	var version, mem, t, threads int
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads); err != nil || mem <= 0 || t <= 0 || threads <= 0 || threads > 255 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(mem), uint8(threads), uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CheckPasswordPolicy explains what is wrong with a new password.
func CheckPasswordPolicy(password string) error {
	if len([]rune(password)) < MinPasswordLen {
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	}
	if len(password) > 1024 {
		return errors.New("the password is longer than 1024 bytes")
	}
	return nil
}

// TokenPrefix starts every personal API token.
const TokenPrefix = "sy_pat_"

// NewToken makes a personal API token: the token to show once, and the
// hash to store.
func NewToken() (token string, hash []byte, err error) {
	secret, err := randomString(32)
	if err != nil {
		return "", nil, err
	}
	token = TokenPrefix + secret
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewSession makes a session's cookie value, its id (the hex SHA-256 of
// the cookie, which is what the store keeps) and its CSRF token.
func NewSession() (cookie, id, csrf string, err error) {
	if cookie, err = randomString(32); err != nil {
		return "", "", "", err
	}
	if csrf, err = randomString(32); err != nil {
		return "", "", "", err
	}
	return cookie, SessionID(cookie), csrf, nil
}

// SessionID is the store's id of a session cookie value.
func SessionID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// SameSecret compares two secrets in constant time.
func SameSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
