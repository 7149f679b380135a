package main

import (
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// placeholder marks base values that every overlay must replace.
const placeholder = "CHANGE-ME"

type workload struct {
	o      *object
	spec   *corev1.PodSpec
	labels map[string]string
}

type key struct{ kind, namespace, name string }

// checkUnit runs the checks that need the whole deployment unit: references between objects,
// one ServiceAccount per workload, default-deny and explicit-allow NetworkPolicies.
func checkUnit(unit string, objects []*object, problems *problems) {
	exists := map[key]*object{}
	var workloads []workload
	var policies []*networkingv1.NetworkPolicy
	var services []*object
	namespaces := map[string]bool{}
	for _, o := range objects {
		k := key{o.gvk.Kind, o.namespace(), o.name()}
		if prev, dup := exists[k]; dup {
			problems.add(o.where(), "duplicate of %s", prev.source)
		}
		exists[k] = o
		if spec, lbls := podTemplate(o.typed); spec != nil {
			workloads = append(workloads, workload{o, spec, lbls})
			namespaces[o.namespace()] = true
		}
		switch t := o.typed.(type) {
		case *networkingv1.NetworkPolicy:
			policies = append(policies, t)
		case *corev1.Service:
			services = append(services, o)
		}
	}
	for _, o := range objects {
		if cm, ok := o.typed.(*corev1.ConfigMap); ok {
			keys := make([]string, 0, len(cm.Data))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.Contains(cm.Data[k], placeholder) {
					problems.add(o.where(), "key %s still holds the placeholder %s: the overlay must set it", k, placeholder)
				}
			}
		}
	}
	if len(workloads) == 0 {
		return
	}
	for ns := range namespaces {
		if !hasDefaultDeny(policies, ns) {
			problems.add(unit, "namespace %q has no default-deny NetworkPolicy (podSelector: {}, "+
				"policyTypes [Ingress, Egress], no rules)", ns)
		}
	}
	accounts := map[key]string{}
	for _, w := range workloads {
		ns := w.o.namespace()
		sa := w.spec.ServiceAccountName
		if sa != "" && sa != "default" {
			if _, ok := exists[key{"ServiceAccount", ns, sa}]; !ok {
				problems.add(w.o.where(), "ServiceAccount %q is not part of the manifests", sa)
			}
			k := key{"ServiceAccount", ns, sa}
			if other, shared := accounts[k]; shared {
				problems.add(w.o.where(), "shares ServiceAccount %q with %s: one ServiceAccount per workload", sa, other)
			}
			accounts[k] = w.o.gvk.Kind + " " + w.o.name()
		}
		checkReferences(w, exists, problems)
		checkSelector(w, problems)
		if !hasAllow(policies, ns, w.labels) {
			problems.add(w.o.where(), "no NetworkPolicy explicitly allows any traffic for its pods "+
				"(labels %v)", w.labels)
		}
	}
	for _, s := range services {
		checkService(s, workloads, problems)
	}
}

func hasDefaultDeny(policies []*networkingv1.NetworkPolicy, ns string) bool {
	for _, p := range policies {
		if p.Namespace != ns || len(p.Spec.PodSelector.MatchLabels) > 0 ||
			len(p.Spec.PodSelector.MatchExpressions) > 0 || len(p.Spec.Ingress) > 0 || len(p.Spec.Egress) > 0 {
			continue
		}
		var in, out bool
		for _, t := range p.Spec.PolicyTypes {
			in = in || t == networkingv1.PolicyTypeIngress
			out = out || t == networkingv1.PolicyTypeEgress
		}
		if in && out {
			return true
		}
	}
	return false
}

func hasAllow(policies []*networkingv1.NetworkPolicy, ns string, podLabels map[string]string) bool {
	for _, p := range policies {
		if p.Namespace != ns || (len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0) {
			continue
		}
		sel := p.Spec.PodSelector
		if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
			continue // a namespace-wide allow (DNS) is not the workload's own explicit allow
		}
		if sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); err == nil &&
			sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

// outOfBandAnnotation lists "Kind/name" objects a workload needs that the operator creates at
// run time (e.g. the chaincode package id), so they are not expected in the manifests.
const outOfBandAnnotation = "medchain.io/created-out-of-band"

// checkReferences: ConfigMaps, PersistentVolumeClaims and ServiceAccounts a pod needs must be in
// the manifests; Secrets are expected to be absent (created out of band).
func checkReferences(w workload, exists map[key]*object, problems *problems) {
	ns := w.o.namespace()
	outOfBand := map[string]bool{}
	for _, ref := range strings.Split(w.o.annotation(outOfBandAnnotation), ",") {
		if ref = strings.TrimSpace(ref); ref != "" {
			outOfBand[ref] = true
		}
	}
	need := func(kind, name, how string) {
		if outOfBand[kind+"/"+name] {
			return
		}
		if _, ok := exists[key{kind, ns, name}]; !ok {
			problems.add(w.o.where(), "%s %q (%s) is not part of the manifests", kind, name, how)
		}
	}
	claimTemplates := map[string]bool{}
	if sts, ok := w.o.typed.(*appsv1.StatefulSet); ok {
		for _, t := range sts.Spec.VolumeClaimTemplates {
			claimTemplates[t.Name] = true
		}
	}
	volumes := map[string]bool{}
	for _, v := range w.spec.Volumes {
		volumes[v.Name] = true
		switch {
		case v.ConfigMap != nil && !isTrue(v.ConfigMap.Optional):
			need("ConfigMap", v.ConfigMap.Name, "volume "+v.Name)
		case v.PersistentVolumeClaim != nil:
			need("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, "volume "+v.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil && !isTrue(src.ConfigMap.Optional) {
					need("ConfigMap", src.ConfigMap.Name, "projected volume "+v.Name)
				}
			}
		}
	}
	all := append(append([]corev1.Container{}, w.spec.InitContainers...), w.spec.Containers...)
	for _, c := range all {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil && !isTrue(e.ConfigMapRef.Optional) {
				need("ConfigMap", e.ConfigMapRef.Name, "envFrom of container "+c.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil && !isTrue(e.ValueFrom.ConfigMapKeyRef.Optional) {
				need("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name, "env "+e.Name+" of container "+c.Name)
			}
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] && !claimTemplates[m.Name] {
				problems.add(w.o.where(), "container %q mounts %q, which is neither a volume nor a volumeClaimTemplate", c.Name, m.Name)
			}
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

func checkSelector(w workload, problems *problems) {
	var selector *metav1.LabelSelector
	switch t := w.o.typed.(type) {
	case *appsv1.Deployment:
		selector = t.Spec.Selector
	case *appsv1.StatefulSet:
		selector = t.Spec.Selector
	default:
		return
	}
	if selector == nil {
		problems.add(w.o.where(), "spec.selector is missing")
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		problems.add(w.o.where(), "spec.selector is invalid: %v", err)
		return
	}
	if sel.Empty() || !sel.Matches(labels.Set(w.labels)) {
		problems.add(w.o.where(), "spec.selector %s does not select the pod template's labels %v", sel, w.labels)
	}
}

func checkService(s *object, workloads []workload, problems *problems) {
	svc := s.typed.(*corev1.Service)
	if len(svc.Spec.Selector) == 0 {
		return // an ExternalName or manually managed Service
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var matched []workload
	for _, w := range workloads {
		if w.o.namespace() == s.namespace() && sel.Matches(labels.Set(w.labels)) {
			matched = append(matched, w)
		}
	}
	if len(matched) == 0 {
		problems.add(s.where(), "selector %s matches no workload in the manifests", sel)
		return
	}
	for _, port := range svc.Spec.Ports {
		if port.TargetPort.Type != intstr.String {
			continue
		}
		found := false
		for _, w := range matched {
			for _, c := range w.spec.Containers {
				for _, cp := range c.Ports {
					found = found || cp.Name == port.TargetPort.StrVal
				}
			}
		}
		if !found {
			problems.add(s.where(), "port %q targets %q, which no selected container declares",
				port.Name, port.TargetPort.StrVal)
		}
	}
}
