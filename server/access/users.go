package access

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// MaxUserName is the longest user name, in bytes.
const MaxUserName = 64

// UserInput is a new user, or a change to one: the body of the API's
// POST and PUT /users, and what `switchyard user create` gives. A field
// left nil keeps its value.
type UserInput struct {
	Name        *string `json:"name"`
	DisplayName *string `json:"display_name"`
	Role        *string `json:"role"`
	Password    *string `json:"password"`
	Disabled    *bool   `json:"disabled"`
}

// CreateUser makes a new user of in, by the rules every way of making one
// shares: a role is required (no quiet default), the name is checked and
// must be free (ignoring case: the store refuses a taken one with
// storage.ErrConflict), and the password must meet the policy.
func CreateUser(ctx context.Context, st Store, in UserInput) (storage.User, error) {
	if in.Role == nil || *in.Role == "" {
		return storage.User{}, fmt.Errorf("%w: role is required: one of %s", storage.ErrInvalid, strings.Join(Roles, ", "))
	}
	var u storage.User
	if err := in.Apply(&u); err != nil {
		return storage.User{}, err
	}
	return st.CreateUser(ctx, u)
}

// Apply overlays in on u, checking every field and hashing a new
// password. Errors wrap storage.ErrInvalid.
func (in *UserInput) Apply(u *storage.User) error {
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
	}
	if in.DisplayName != nil {
		u.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if err := field.Line("display_name", u.DisplayName, field.MaxName); err != nil {
		return err
	}
	if in.Role != nil {
		u.Role = *in.Role
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	if err := CheckUserName(u.Name); err != nil {
		return err
	}
	if !ValidRole(u.Role) {
		return fmt.Errorf("%w: role must be one of %s", storage.ErrInvalid, strings.Join(Roles, ", "))
	}
	if in.Password != nil {
		if err := CheckPasswordPolicy(*in.Password); err != nil {
			return fmt.Errorf("%w: %v", storage.ErrInvalid, err)
		}
		h, err := HashPassword(*in.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	if u.PasswordHash == "" {
		return fmt.Errorf("%w: password is required", storage.ErrInvalid)
	}
	return nil
}

// CheckUserName says what is wrong with a user name.
func CheckUserName(name string) error {
	if name == "" || len(name) > MaxUserName {
		return fmt.Errorf("%w: name is required, up to %d characters", storage.ErrInvalid, MaxUserName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return fmt.Errorf("%w: name may hold letters, digits, '.', '_', '@' and '-' only", storage.ErrInvalid)
		}
	}
	return nil
}
