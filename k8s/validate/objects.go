package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// object is one manifest document: its raw JSON form, its GVK and its typed decoding.
type object struct {
	source string // file:document-index
	gvk    schema.GroupVersionKind
	raw    map[string]any
	json   []byte
	typed  runtime.Object // nil when the kind is unknown or decoding failed outright
}

func (o *object) name() string {
	meta, _ := o.raw["metadata"].(map[string]any)
	n, _ := meta["name"].(string)
	return n
}

func (o *object) namespace() string {
	meta, _ := o.raw["metadata"].(map[string]any)
	n, _ := meta["namespace"].(string)
	return n
}

func (o *object) annotation(name string) string {
	meta, _ := o.raw["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	v, _ := annotations[name].(string)
	return v
}

// where names the object in messages: "source Kind namespace/name".
func (o *object) where() string {
	ref := o.name()
	if ns := o.namespace(); ns != "" {
		ref = ns + "/" + ref
	}
	return fmt.Sprintf("%s %s %s", o.source, o.gvk.Kind, ref)
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
		policyv1.AddToScheme, rbacv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strictDecoder fails on unknown fields, duplicate fields and values of the wrong type.
var strictDecoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Yaml: false, Strict: true})

func loadObjects(files []string, problems *problems) []*object {
	var out []*object
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			problems.add(path, "cannot read: %v", err)
			continue
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for index := 0; ; index++ {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			source := fmt.Sprintf("%s#%d", path, index)
			if err != nil {
				problems.add(source, "cannot split YAML documents: %v", err)
				break
			}
			if o := decode(source, doc, problems); o != nil {
				out = append(out, o)
			}
		}
	}
	return out
}

func decode(source string, doc []byte, problems *problems) *object {
	if len(bytes.TrimSpace(stripComments(doc))) == 0 {
		return nil
	}
	jsonDoc, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		problems.add(source, "invalid YAML: %v", err)
		return nil
	}
	var raw map[string]any
	if err := json.Unmarshal(jsonDoc, &raw); err != nil || raw == nil {
		problems.add(source, "a manifest must be a mapping")
		return nil
	}
	apiVersion, _ := raw["apiVersion"].(string)
	kind, _ := raw["kind"].(string)
	if apiVersion == "" || kind == "" {
		problems.add(source, "apiVersion and kind are required")
		return nil
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		problems.add(source, "invalid apiVersion %q: %v", apiVersion, err)
		return nil
	}
	o := &object{source: source, gvk: gv.WithKind(kind), raw: raw, json: jsonDoc}
	if o.name() == "" {
		problems.add(o.where(), "metadata.name is required")
	}
	if !scheme.Recognizes(o.gvk) {
		problems.add(o.where(), "%s is not a built-in kind this validator knows (%s); "+
			"only core, apps, batch, networking, policy, rbac and autoscaling/v2 objects are allowed",
			kind, apiVersion)
		return o
	}
	typed, _, err := strictDecoder.Decode(jsonDoc, nil, nil)
	if err != nil {
		if strict, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range strict.Errors() {
				problems.add(o.where(), "strict decoding against the %s Go type: %v", o.gvk.Kind, e)
			}
		} else {
			problems.add(o.where(), "does not decode into the %s Go type: %v", o.gvk.Kind, err)
			return o
		}
	}
	o.typed = typed
	return o
}

// stripComments drops YAML comment-only lines so a document of comments counts as empty.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
