package functions

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/storage"
)

// CatalogueStore is what the catalogue needs of the store: the writes of
// providers and functions, the functions a new uri is checked against and
// the records a new name is checked against.
type CatalogueStore interface {
	ListProviders(ctx context.Context) ([]storage.Provider, error)
	ListFunctions(ctx context.Context) ([]storage.Function, error)
	CreateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error)
	UpdateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error)
	DeleteProvider(ctx context.Context, id string) error
	ReorderProviders(ctx context.Context, ids []string) ([]storage.Provider, error)
	CreateFunction(ctx context.Context, f storage.Function) (storage.Function, error)
	UpdateFunction(ctx context.Context, f storage.Function) (storage.Function, error)
	DeleteFunction(ctx context.Context, id string) error
	storage.Locker
}

// Catalogue is the one way to change the scripts: every change of a
// provider or a function is normalised, saved, and published to the
// dispatcher before the call returns, so a webhook that follows runs the
// new scripts. The admin API goes through it (and so will the config
// importer and the cluster's change feed); nothing else writes providers
// or functions.
type Catalogue struct {
	store CatalogueStore
	disp  *Dispatcher
	// fnMu, with the store's lock functionsLock, makes a function's name
	// and overlap checks and its save one step, in this process and
	// among every node, so that two creates of one name, or two
	// overlapping patterns, saved at once cannot both pass.
	fnMu sync.Mutex
	// provMu and providersLock do the same for a provider's name check
	// and its save.
	provMu sync.Mutex
}

// The store's locks that make a check and its save one step among nodes.
const (
	providersLock = "catalogue.providers"
	functionsLock = "catalogue.functions"
)

// lock takes mu, then the store's lock called name (waiting for another
// node to finish its save), and returns what releases both.
func (c *Catalogue) lock(ctx context.Context, mu *sync.Mutex, name string) (func(), error) {
	mu.Lock()
	unlock, err := storage.Lock(ctx, c.store, name)
	if err != nil {
		mu.Unlock()
		return nil, err
	}
	return func() { unlock(); mu.Unlock() }, nil
}

// NewCatalogue returns the catalogue that saves to store and publishes to
// disp.
func NewCatalogue(store CatalogueStore, disp *Dispatcher) *Catalogue {
	return &Catalogue{store: store, disp: disp}
}

// Refresh publishes to the dispatcher what the store holds now. The
// catalogue's saves call it; so does whatever learns that the store
// changed under this process (the cluster's change feed). A save stands
// even if its refresh fails (the error says so); the next refresh picks
// it up.
func (c *Catalogue) Refresh(ctx context.Context) error {
	return c.disp.Reload(ctx)
}

// save normalises v, stores it with store and publishes it.
func save[T any](ctx context.Context, c *Catalogue, v T, normalize func(*T) error, store func(context.Context, T) (T, error)) (T, error) {
	if err := normalize(&v); err != nil {
		return v, err
	}
	v, err := store(ctx, v)
	if err != nil {
		return v, err
	}
	return v, c.Refresh(ctx)
}

// CreateProvider normalises p, checks that no other provider has its
// name, stores it and publishes it.
func (c *Catalogue) CreateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	unlock, err := c.lock(ctx, &c.provMu, providersLock)
	if err != nil {
		return p, err
	}
	defer unlock()
	return save(ctx, c, p, c.normalizeProvider(ctx), c.store.CreateProvider)
}

// UpdateProvider normalises p, checks that a new name is no other
// provider's, stores it and publishes it.
func (c *Catalogue) UpdateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	unlock, err := c.lock(ctx, &c.provMu, providersLock)
	if err != nil {
		return p, err
	}
	defer unlock()
	return save(ctx, c, p, c.normalizeProvider(ctx), c.store.UpdateProvider)
}

// normalizeProvider is providers.Normalize followed by the name check
// against the providers stored now.
func (c *Catalogue) normalizeProvider(ctx context.Context) func(*storage.Provider) error {
	return func(p *storage.Provider) error {
		if err := providers.Normalize(p); err != nil {
			return err
		}
		all, err := c.store.ListProviders(ctx)
		if err != nil {
			return fmt.Errorf("check the name against the other providers: %w", err)
		}
		return field.UniqueName("provider", all, func(o storage.Provider) (string, string) { return o.ID, o.Name }, p.ID, p.Name)
	}
}

// DeleteProvider deletes a provider and publishes the change.
func (c *Catalogue) DeleteProvider(ctx context.Context, id string) error {
	if err := c.store.DeleteProvider(ctx, id); err != nil {
		return err
	}
	return c.Refresh(ctx)
}

// ReorderProviders sets the providers' order and publishes it.
func (c *Catalogue) ReorderProviders(ctx context.Context, ids []string) ([]storage.Provider, error) {
	all, err := c.store.ReorderProviders(ctx, ids)
	if err != nil {
		return nil, err
	}
	return all, c.Refresh(ctx)
}

// CreateFunction normalises f, checks that its name is no other
// function's and that its uri overlaps no other pattern of its provider,
// stores it and publishes it.
func (c *Catalogue) CreateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	unlock, err := c.lock(ctx, &c.fnMu, functionsLock)
	if err != nil {
		return f, err
	}
	defer unlock()
	return save(ctx, c, f, c.normalizeFunction(ctx), c.store.CreateFunction)
}

// UpdateFunction normalises f, checks that a new name is no other
// function's and that its uri overlaps no other pattern of its provider,
// stores it and publishes it.
func (c *Catalogue) UpdateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	unlock, err := c.lock(ctx, &c.fnMu, functionsLock)
	if err != nil {
		return f, err
	}
	defer unlock()
	return save(ctx, c, f, c.normalizeFunction(ctx), c.store.UpdateFunction)
}

// normalizeFunction is Normalize followed by the name and overlap checks
// against the functions stored now.
func (c *Catalogue) normalizeFunction(ctx context.Context) func(*storage.Function) error {
	return func(f *storage.Function) error {
		if err := Normalize(f); err != nil {
			return err
		}
		all, err := c.store.ListFunctions(ctx)
		if err != nil {
			return fmt.Errorf("check the uri against the other functions: %w", err)
		}
		if err := field.UniqueName("function", all, func(o storage.Function) (string, string) { return o.ID, o.Name }, f.ID, f.Name); err != nil {
			return err
		}
		return checkOverlap(*f, all)
	}
}

// DeleteFunction deletes a function and publishes the change.
func (c *Catalogue) DeleteFunction(ctx context.Context, id string) error {
	if err := c.store.DeleteFunction(ctx, id); err != nil {
		return err
	}
	return c.Refresh(ctx)
}
