package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// schemaSet validates objects against the OpenAPI v3 documents that Kubernetes publishes, one
// file per group/version (api__v1_openapi.json, apis__apps__v1_openapi.json, ...). OpenAPI 3.0
// schema objects are JSON Schema draft 4 with extensions (x-kubernetes-*, nullable), so they are
// compiled as draft 4; the extensions are annotations and are ignored.
type schemaSet struct {
	dir      string
	mu       sync.Mutex
	compiled map[schema.GroupVersionKind]*jsonschema.Schema
	failed   map[schema.GroupVersion]error
}

func newSchemaSet(dir string) *schemaSet {
	return &schemaSet{
		dir:      dir,
		compiled: map[schema.GroupVersionKind]*jsonschema.Schema{},
		failed:   map[schema.GroupVersion]error{},
	}
}

// documentFile is the file name of a group/version's OpenAPI v3 document.
func documentFile(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return fmt.Sprintf("api__%s_openapi.json", gv.Version)
	}
	return fmt.Sprintf("apis__%s__%s_openapi.json", gv.Group, gv.Version)
}

func (s *schemaSet) schemaFor(gvk schema.GroupVersionKind) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[gvk]; ok {
		return sch, nil
	}
	gv := gvk.GroupVersion()
	if err, ok := s.failed[gv]; ok {
		return nil, err
	}
	if err := s.load(gv); err != nil {
		s.failed[gv] = err
		return nil, err
	}
	if sch, ok := s.compiled[gvk]; ok {
		return sch, nil
	}
	return nil, fmt.Errorf("no schema for kind %s in %s", gvk.Kind, documentFile(gv))
}

// load compiles the schema of every kind that the group/version's document declares.
func (s *schemaSet) load(gv schema.GroupVersion) error {
	path := filepath.Join(s.dir, documentFile(gv))
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("no OpenAPI document for %s: %w", gv, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	top, _ := doc.(map[string]any)
	components, _ := top["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if len(schemas) == 0 {
		return fmt.Errorf("%s has no components.schemas", path)
	}
	url := "file://" + filepath.ToSlash(path)
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft4)
	if err := compiler.AddResource(url, doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	names := make([]string, 0, len(schemas))
	for name := range schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def, _ := schemas[name].(map[string]any)
		for _, g := range gvkExtensions(def) {
			if g.GroupVersion() != gv {
				continue
			}
			sch, err := compiler.Compile(url + "#/components/schemas/" + name)
			if err != nil {
				return fmt.Errorf("compile %s from %s: %w", name, path, err)
			}
			s.compiled[g] = sch
		}
	}
	return nil
}

func gvkExtensions(def map[string]any) []schema.GroupVersionKind {
	list, _ := def["x-kubernetes-group-version-kind"].([]any)
	var out []schema.GroupVersionKind
	for _, item := range list {
		m, _ := item.(map[string]any)
		group, _ := m["group"].(string)
		version, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		out = append(out, schema.GroupVersionKind{Group: group, Version: version, Kind: k})
	}
	return out
}

var printer = message.NewPrinter(language.English)

// validateSchema reports every leaf error of the object's validation against its schema.
func (s *schemaSet) validate(o *object, problems *problems) {
	sch, err := s.schemaFor(o.gvk)
	if err != nil {
		problems.add(o.where(), "no OpenAPI schema to validate against: %v", err)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(o.json)))
	if err != nil {
		problems.add(o.where(), "cannot re-read as JSON: %v", err)
		return
	}
	err = sch.Validate(inst)
	if err == nil {
		return
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		problems.add(o.where(), "OpenAPI schema validation: %v", err)
		return
	}
	seen := map[string]bool{}
	for _, leaf := range leaves(verr) {
		msg := fmt.Sprintf("OpenAPI schema (%s): at %s: %s", o.gvk.Kind,
			"/"+strings.Join(leaf.InstanceLocation, "/"), leaf.ErrorKind.LocalizedString(printer))
		if !seen[msg] {
			seen[msg] = true
			problems.add(o.where(), "%s", msg)
		}
	}
}

// leaves are the most specific errors; a oneOf/anyOf failure is reported as itself rather than
// as one error per alternative.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		return []*jsonschema.ValidationError{e}
	}
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
