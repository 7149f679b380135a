package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// clusterScoped kinds carry no namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "PersistentVolume": true,
}

func checkObject(o *object, schemas *schemaSet, requireNamespace bool, problems *problems) {
	if schemas != nil && scheme.Recognizes(o.gvk) {
		schemas.validate(o, problems)
	}
	if requireNamespace && !clusterScoped[o.gvk.Kind] && o.namespace() == "" {
		problems.add(o.where(), "metadata.namespace is missing: every overlay sets its namespace")
	}
	if o.gvk.Kind == "Secret" {
		problems.add(o.where(), "a Secret is part of the manifests: MSP, TLS and application secrets "+
			"are referenced by name and created out of band (docs/operations.md), never committed")
	}
	if spec, _ := podTemplate(o.typed); spec != nil {
		checkPodSpec(o.where(), spec, problems)
	}
}

// podTemplate returns the pod spec and template labels of a workload, or nil.
func podTemplate(obj runtime.Object) (*corev1.PodSpec, map[string]string) {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return &w.Spec.Template.Spec, w.Spec.Template.Labels
	case *appsv1.StatefulSet:
		return &w.Spec.Template.Spec, w.Spec.Template.Labels
	case *appsv1.DaemonSet:
		return &w.Spec.Template.Spec, w.Spec.Template.Labels
	case *appsv1.ReplicaSet:
		return &w.Spec.Template.Spec, w.Spec.Template.Labels
	case *batchv1.Job:
		return &w.Spec.Template.Spec, w.Spec.Template.Labels
	case *batchv1.CronJob:
		return &w.Spec.JobTemplate.Spec.Template.Spec, w.Spec.JobTemplate.Spec.Template.Labels
	case *corev1.Pod:
		return &w.Spec, w.Labels
	}
	return nil, nil
}

func checkPodSpec(where string, spec *corev1.PodSpec, problems *problems) {
	if spec.ServiceAccountName == "" || spec.ServiceAccountName == "default" {
		problems.add(where, "spec.serviceAccountName must name the workload's own ServiceAccount, not %q",
			orDefault(spec.ServiceAccountName))
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		problems.add(where, "automountServiceAccountToken must be false: no MedChain workload calls the Kubernetes API")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		problems.add(where, "hostNetwork, hostPID and hostIPC must be false")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			problems.add(where, "volume %q is a hostPath volume; use a PersistentVolumeClaim", v.Name)
		}
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if pod.RunAsUser != nil && *pod.RunAsUser == 0 {
		problems.add(where, "securityContext.runAsUser is 0 (root)")
	}
	checkVolumeModes(where, spec, pod, problems)
	podSeccomp := pod.SeccompProfile != nil && pod.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined
	for i := range spec.InitContainers {
		checkContainer(where, "init container", &spec.InitContainers[i], pod, podSeccomp, false, problems)
	}
	if len(spec.Containers) == 0 {
		problems.add(where, "the pod template has no containers")
	}
	for i := range spec.Containers {
		checkContainer(where, "container", &spec.Containers[i], pod, podSeccomp, true, problems)
	}
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func checkContainer(where, what string, c *corev1.Container, pod *corev1.PodSecurityContext,
	podSeccomp bool, needsProbes bool, problems *problems) {
	at := fmt.Sprintf("%s %s %q", where, what, c.Name)
	if msg := imageProblem(c.Image); msg != "" {
		problems.add(at, "%s", msg)
	}
	checkResources(at, c.Resources, problems)
	checkSecurityContext(at, c.SecurityContext, pod, podSeccomp, problems)
	if needsProbes {
		checkProbe(at, "livenessProbe", c.LivenessProbe, c, problems)
		checkProbe(at, "readinessProbe", c.ReadinessProbe, c, problems)
		if c.StartupProbe != nil {
			checkProbe(at, "startupProbe", c.StartupProbe, c, problems)
		}
	}
}

// imageProblem explains why an image reference is not pinned, or returns "".
func imageProblem(image string) string {
	if image == "" {
		return "image is empty"
	}
	ref, digest, hasDigest := strings.Cut(image, "@")
	if hasDigest && !strings.HasPrefix(digest, "sha256:") {
		return fmt.Sprintf("image %q has a malformed digest", image)
	}
	lastSlash := strings.LastIndex(ref, "/")
	tagSep := strings.LastIndex(ref, ":")
	tag := ""
	if tagSep > lastSlash {
		tag = ref[tagSep+1:]
	}
	switch {
	case tag == "latest":
		return fmt.Sprintf("image %q uses the \"latest\" tag; pin an exact version", image)
	case tag == "" && !hasDigest:
		return fmt.Sprintf("image %q has no tag (that means \"latest\"); pin an exact version", image)
	case !hasDigest && !exactVersion.MatchString(tag):
		return fmt.Sprintf("image %q: tag %q is not an exact version (major.minor.patch) and "+
			"there is no digest; pin an exact version", image, tag)
	}
	return ""
}

// exactVersion: a tag that names one release, e.g. 2.5.16, 0.1.0, 3.11.13-slim-bookworm.
var exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+([.+_-][0-9A-Za-z.+_-]+)?$`)

func checkResources(at string, r corev1.ResourceRequirements, problems *problems) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if !hasReq {
			problems.add(at, "resources.requests.%s is missing", name)
		}
		if !hasLim {
			problems.add(at, "resources.limits.%s is missing: every container has limits", name)
		}
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			problems.add(at, "resources.requests.%s (%s) exceeds resources.limits.%s (%s)",
				name, req.String(), name, lim.String())
		}
		if hasLim && lim.Cmp(resource.MustParse("0")) <= 0 {
			problems.add(at, "resources.limits.%s must be positive", name)
		}
	}
}

func checkSecurityContext(at string, sc *corev1.SecurityContext, pod *corev1.PodSecurityContext,
	podSeccomp bool, problems *problems) {
	if sc == nil {
		problems.add(at, "securityContext is missing: set runAsNonRoot, readOnlyRootFilesystem, "+
			"allowPrivilegeEscalation: false and capabilities.drop [ALL]")
		sc = &corev1.SecurityContext{}
	}
	nonRoot := pod.RunAsNonRoot != nil && *pod.RunAsNonRoot
	if sc.RunAsNonRoot != nil {
		nonRoot = *sc.RunAsNonRoot
	}
	if !nonRoot {
		problems.add(at, "runAsNonRoot must be true (in the container's or the pod's securityContext)")
	}
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		problems.add(at, "securityContext.runAsUser is 0 (root)")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		problems.add(at, "securityContext.readOnlyRootFilesystem must be true; mount an emptyDir where the process writes")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		problems.add(at, "securityContext.allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		problems.add(at, "securityContext.privileged must not be true")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) {
		problems.add(at, "securityContext.capabilities.drop must contain ALL")
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		problems.add(at, "securityContext.capabilities.add must be empty, got %v", sc.Capabilities.Add)
	}
	seccomp := podSeccomp
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined
	}
	if !seccomp {
		problems.add(at, "a seccompProfile (RuntimeDefault) is required in the pod's or the container's securityContext")
	}
}

func checkProbe(at, field string, p *corev1.Probe, c *corev1.Container, problems *problems) {
	if p == nil {
		problems.add(at, "%s is missing: every container has liveness and readiness probes", field)
		return
	}
	h := p.ProbeHandler
	handlers := 0
	for _, set := range []bool{h.HTTPGet != nil, h.GRPC != nil, h.TCPSocket != nil, h.Exec != nil} {
		if set {
			handlers++
		}
	}
	if handlers != 1 {
		problems.add(at, "%s must have exactly one handler (httpGet, grpc, tcpSocket or exec), has %d", field, handlers)
	}
	switch {
	case h.HTTPGet != nil:
		if h.HTTPGet.Path == "" {
			problems.add(at, "%s.httpGet.path is empty", field)
		}
		checkProbePort(at, field+".httpGet.port", h.HTTPGet.Port, c, problems)
	case h.TCPSocket != nil:
		checkProbePort(at, field+".tcpSocket.port", h.TCPSocket.Port, c, problems)
	case h.GRPC != nil:
		checkProbePort(at, field+".grpc.port", intstr.FromInt32(h.GRPC.Port), c, problems)
	}
}

func checkProbePort(at, field string, port intstr.IntOrString, c *corev1.Container, problems *problems) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) ||
			(port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return
		}
	}
	problems.add(at, "%s %s is not one of the container's ports", field, port.String())
}

// checkVolumeModes: Secret and ConfigMap volumes are owned by root; a mode without the "other"
// read bit is readable by the non-root process only through the pod's fsGroup.
func checkVolumeModes(where string, spec *corev1.PodSpec, pod *corev1.PodSecurityContext, problems *problems) {
	if pod.FSGroup != nil {
		return
	}
	for _, v := range spec.Volumes {
		var mode *int32
		switch {
		case v.Secret != nil:
			mode = v.Secret.DefaultMode
		case v.ConfigMap != nil:
			mode = v.ConfigMap.DefaultMode
		}
		if mode != nil && *mode&0o004 == 0 {
			problems.add(where, "volume %q has mode %#o, which the non-root user cannot read "+
				"without securityContext.fsGroup", v.Name, *mode)
		}
	}
}
