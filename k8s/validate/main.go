// Command medchain-k8s-validate checks rendered Kubernetes manifests and Dockerfiles offline.
//
// Every YAML file named on the command line belongs to one deployment unit (typically the output
// of `kustomize build` for one overlay). Each object is
//
//  1. decoded strictly into its Go type from k8s.io/api (unknown or duplicate fields and
//     mistyped values fail),
//  2. validated against the Kubernetes OpenAPI v3 schema of its group/version/kind, read from the
//     directory given with -openapi (api/openapi-spec/v3 of the k8s.io/kubernetes module), and
//  3. checked against MedChain's policies (pinned images, limits, probes, hardened security
//     context, one ServiceAccount per workload, default-deny NetworkPolicy, no Secret objects).
//
// Files given with -dockerfile are checked for pinned base images, multi-stage builds, a non-root
// final USER and no ADD from URLs. The exit status is 1 when any problem was found.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("medchain-k8s-validate", flag.ContinueOnError)
	openapiDir := fs.String("openapi", "", "directory of Kubernetes OpenAPI v3 documents (api/openapi-spec/v3)")
	name := fs.String("name", "", "name of the deployment unit, used in messages (default: the file names)")
	requireNamespace := fs.Bool("require-namespace", true, "namespaced objects must carry metadata.namespace")
	var dockerfiles stringList
	fs.Var(&dockerfiles, "dockerfile", "a Dockerfile to check (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	if len(files) == 0 && len(dockerfiles) == 0 {
		fmt.Fprintln(os.Stderr, "usage: medchain-k8s-validate [-openapi DIR] [-name NAME] [-dockerfile F]... [MANIFEST.yaml]...")
		return 2
	}
	var problems problems
	if len(files) > 0 {
		unit := *name
		if unit == "" {
			unit = strings.Join(files, "+")
		}
		var schemas *schemaSet
		if *openapiDir != "" {
			schemas = newSchemaSet(*openapiDir)
		} else {
			problems.add(unit, "-openapi was not given: schema validation cannot run")
		}
		objects := loadObjects(files, &problems)
		for _, o := range objects {
			checkObject(o, schemas, *requireNamespace, &problems)
		}
		checkUnit(unit, objects, &problems)
		fmt.Printf("%s: %d objects checked\n", unit, len(objects))
	}
	for _, path := range dockerfiles {
		checkDockerfile(path, &problems)
	}
	if len(dockerfiles) > 0 {
		fmt.Printf("%d Dockerfiles checked\n", len(dockerfiles))
	}
	if len(problems) == 0 {
		fmt.Println("ok: no problems found")
		return 0
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].where < problems[j].where })
	for _, p := range problems {
		fmt.Printf("FAIL %s: %s\n", p.where, p.what)
	}
	fmt.Printf("%d problem(s) found\n", len(problems))
	return 1
}

type problem struct{ where, what string }

type problems []problem

func (p *problems) add(where, format string, args ...any) {
	*p = append(*p, problem{where: where, what: fmt.Sprintf(format, args...)})
}
