package storage

import "time"

// Roles, from most to least powerful.
const (
	RoleAdmin    = "admin"    // everything, users and the audit log included
	RoleEditor   = "editor"   // providers, functions, endpoints, and what an operator does
	RoleOperator = "operator" // messages (details, payloads, resubmit), deliveries (replay)
	RoleViewer   = "viewer"   // lists and statuses only: no headers, payloads or logs
)

// User is a person who signs in to the UI or uses a personal API token.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"` // the login name, unique, compared case-insensitively
	// DisplayName is shown in the UI and the audit log.
	DisplayName string `json:"display_name,omitempty"`
	Role        string `json:"role"`
	Disabled    bool   `json:"disabled"`
	// PasswordHash is the password's argon2id hash in PHC form; never
	// serialised to clients.
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// APIToken is a personal API token. Only its SHA-256 is stored; the token
// itself is shown once, when it is made.
type APIToken struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	// Prefix is the token's first characters, to recognise it in a list.
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Session is a signed-in UI session. Its ID is the SHA-256 (hex) of the
// cookie's secret value, so the store never holds a usable cookie.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CSRF      string    `json:"-"` // the token every state-changing request must carry
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AuditEntry records one change: who made it, when, and what it was.
type AuditEntry struct {
	ID     string    `json:"id"` // a UUIDv7, so entries list in time order
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"` // the user's name, or "admin-token"
	UserID string    `json:"user_id,omitempty"`
	// Action names the change: "provider.update", "message.resubmit",
	// "endpoint.disable", "user.login"...
	Action string `json:"action"`
	Target string `json:"target,omitempty"` // the id of what was changed
	Detail string `json:"detail,omitempty"` // a short human description
	IP     string `json:"ip,omitempty"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Actor  string
	Action string // exact, or a prefix ending in "." ("provider.")
	Target string
	Since  time.Time
	Until  time.Time
	Cursor string
	Limit  int
}
