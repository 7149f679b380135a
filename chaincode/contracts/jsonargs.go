package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
)

var jsonNull = []byte("null")

// jsonObject reads the fields of one JSON object argument strictly: duplicate keys, unknown
// fields, missing required fields, nulls and wrong types are all INVALID_ARGUMENT errors
// naming the field. The first problem found is kept in err; later reads become no-ops.
type jsonObject struct {
	path   string // prefix for field names in errors, e.g. "consents[3]."
	fields map[string]json.RawMessage
	read   map[string]bool
	err    error
}

// parseObject splits a JSON object into its raw fields. name labels the whole argument in errors.
func parseObject(name, path string, data []byte) (*jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, invalidArgument(name, "must be a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return nil, invalidArgument(name, "malformed JSON object")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, invalidArgument(path+key, "malformed JSON value")
		}
		if _, dup := fields[key]; dup {
			return nil, invalidArgument(path+key, "duplicate field")
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, invalidArgument(name, "malformed JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidArgument(name, "unexpected data after the JSON object")
	}
	return &jsonObject{path: path, fields: fields, read: map[string]bool{}}, nil
}

// parseArray splits a JSON array into its raw items.
func parseArray(name string, data []byte) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil || items == nil {
		return nil, invalidArgument(name, "must be a JSON array")
	}
	return items, nil
}

// raw returns a field's JSON, or nil when it is absent or an earlier error stopped reading.
func (o *jsonObject) raw(name string, required bool) json.RawMessage {
	if o.err != nil {
		return nil
	}
	o.read[name] = true
	value, ok := o.fields[name]
	if !ok {
		if required {
			o.err = invalidArgument(o.path+name, "required")
		}
		return nil
	}
	if bytes.Equal(value, jsonNull) {
		o.err = invalidArgument(o.path+name, "must not be null")
		return nil
	}
	return value
}

func (o *jsonObject) decode(name string, required bool, dst any, kind string) bool {
	value := o.raw(name, required)
	if value == nil {
		return false
	}
	if err := json.Unmarshal(value, dst); err != nil {
		o.err = invalidArgument(o.path+name, "must be %s", kind)
		return false
	}
	return true
}

// str reads a required string field.
func (o *jsonObject) str(name string) string {
	var s string
	o.decode(name, true, &s, "a string")
	return s
}

// optStr reads an optional string field; absent means "".
func (o *jsonObject) optStr(name string) string {
	var s string
	o.decode(name, false, &s, "a string")
	return s
}

// integer reads a required JSON integer (no fraction, no exponent).
func (o *jsonObject) integer(name string) int64 {
	value := o.raw(name, true)
	if value == nil {
		return 0
	}
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		o.err = invalidArgument(o.path+name, "must be an integer")
		return 0
	}
	return n
}

// number reads a required finite JSON number.
func (o *jsonObject) number(name string) float64 {
	value := o.raw(name, true)
	if value == nil {
		return 0
	}
	if value[0] != '-' && (value[0] < '0' || value[0] > '9') {
		o.err = invalidArgument(o.path+name, "must be a number")
		return 0
	}
	f, err := strconv.ParseFloat(string(value), 64)
	if err != nil {
		o.err = invalidArgument(o.path+name, "must be a finite number")
		return 0
	}
	return f
}

// strList reads a required array of strings.
func (o *jsonObject) strList(name string) []string {
	list := []string{}
	o.decode(name, true, &list, "an array of strings")
	return list
}

// metrics reads an optional {name: number} object; absent means empty.
func (o *jsonObject) metrics(name string) map[string]float64 {
	out := map[string]float64{}
	value := o.raw(name, false)
	if value == nil {
		return out
	}
	inner, err := parseObject(o.path+name, o.path+name+".", value)
	if err != nil {
		o.err = err
		return out
	}
	for _, key := range sortedKeys(inner.fields) {
		out[key] = inner.number(key)
	}
	if inner.err != nil {
		o.err = inner.err
	}
	return out
}

// finish reports the first error, or the first unknown field in sorted order.
func (o *jsonObject) finish() error {
	if o.err != nil {
		return o.err
	}
	for _, name := range sortedKeys(o.fields) {
		if !o.read[name] {
			return invalidArgument(o.path+name, "unknown field")
		}
	}
	return nil
}

// sortedKeys returns a map's keys in ascending order, so no result depends on map iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
