package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/scripting/signature"
	"github.com/switchyard-dev/switchyard/storage"
)

// maxToleranceSeconds bounds tolerance_seconds: a day.
const maxToleranceSeconds = 24 * 60 * 60

// signatureInput is the body of POST /messages/{id}/signature-check. The
// secret is given either as is, or as the name of a stored provider secret.
type signatureInput struct {
	Secret           string `json:"secret"`
	ProviderID       string `json:"provider_id"`
	SecretName       string `json:"secret_name"`
	Scheme           string `json:"scheme"` // "" guesses from the headers
	ToleranceSeconds int    `json:"tolerance_seconds"`
}

// signatureCheck: POST /messages/{id}/signature-check shows the received
// signature beside every common variant computed over the stored raw body,
// and which one matches. It never echoes the secret.
func (s *Server) signatureCheck(c echo.Context) error {
	var in signatureInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	secret := in.Secret
	switch {
	case secret != "" && (in.ProviderID != "" || in.SecretName != ""):
		return fmt.Errorf("%w: give either secret, or provider_id and secret_name, not both", storage.ErrInvalid)
	case secret == "" && (in.ProviderID == "" || in.SecretName == ""):
		return fmt.Errorf("%w: secret is required (or provider_id and secret_name to use a stored secret)", storage.ErrInvalid)
	case secret == "":
		p, err := s.store.GetProvider(ctx, in.ProviderID)
		if err != nil {
			return err
		}
		v, ok := p.Secrets[in.SecretName]
		if !ok {
			v, ok = p.Properties[in.SecretName]
		}
		if !ok || v == "" {
			return fmt.Errorf("%w: provider %q has no secret or property %q", storage.ErrInvalid, p.Name, in.SecretName)
		}
		secret = v
	}
	if err := field.Int("tolerance_seconds", in.ToleranceSeconds, 0, maxToleranceSeconds); err != nil {
		return err
	}
	d, body, err := s.loadMessage(c)
	if err != nil {
		return err
	}
	rep, err := signature.Check(signature.Input{
		Headers:   d.Headers,
		Body:      body,
		Secret:    secret,
		Scheme:    in.Scheme,
		Tolerance: time.Duration(in.ToleranceSeconds) * time.Second,
		// A stored message is checked as of when it arrived, so an old
		// message's timestamp is judged as the sender's was then.
		Now: d.ReceivedAt,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", storage.ErrInvalid, err)
	}
	return c.JSON(http.StatusOK, rep)
}
