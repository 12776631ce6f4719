package transfer

import (
	"bytes"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// Diff compares two records of one type, as Copy compares a copy with its
// source, and returns the path of the first field where they differ ("" when they are the same), never a value: a
// record holds secrets. Bytes (bodies, hashes, event data as written)
// compare byte for byte and times as instants, whatever their location.
// What the two backends write alike differently counts as the same: a nil
// and an empty map or slice, and a nil time pointer and one to the zero
// time (neither store keeps the zero time).
func Diff(a, b any) string {
	return diffValues(reflect.ValueOf(a), reflect.ValueOf(b), "")
}

func diffValues(a, b reflect.Value, path string) string {
	if a.Type() == timeType {
		if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			return orSelf(path)
		}
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() && b.IsNil() {
				return ""
			}
			// One is nil: the same only if the other points to a zero
			// value.
			other := a
			if a.IsNil() {
				other = b
			}
			if other.Elem().IsZero() {
				return ""
			}
			return orSelf(path)
		}
		return diffValues(a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() && b.IsNil() {
				return ""
			}
			return orSelf(path)
		}
		if a.Elem().Type() != b.Elem().Type() {
			return orSelf(path)
		}
		return diffValues(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := path + "." + f.Name
			if f.Anonymous {
				name = path // an embedded type's fields read as the record's own
			}
			if d := diffValues(a.Field(i), b.Field(i), name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if a.Len() != b.Len() {
			return orSelf(path)
		}
		if a.Type().Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				return orSelf(path)
			}
			return ""
		}
		for i := range a.Len() {
			if d := diffValues(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if a.Len() != b.Len() {
			return orSelf(path)
		}
		keys := a.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return orSelf(path)
			}
			// Map keys are names (headers, properties, secrets' names),
			// not values: they may be shown.
			if d := diffValues(a.MapIndex(k), bv, path+"["+strconv.Quote(k.String())+"]"); d != "" {
				return d
			}
		}
		return ""
	default:
		if !a.Equal(b) {
			return orSelf(path)
		}
		return ""
	}
}

func orSelf(path string) string {
	if path == "" {
		return "(the record)"
	}
	return strings.TrimPrefix(path, ".")
}
