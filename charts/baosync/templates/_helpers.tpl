{{- define "baosync.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "baosync.labels" -}}
app.kubernetes.io/name: baosync
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "baosync.selector" -}}
app.kubernetes.io/name: baosync
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "baosync.serviceAccount" -}}
{{- default (include "baosync.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{- /*
baosync.rules selects from the generated rules (list rules which): "all" of
them; "namespaced", those on namespaced resources, for the Role of a scoped
install; "reviews", the TokenReview and SubjectAccessReview rules a scoped
install still needs cluster-wide (reviewing tokens: the metrics filter and the
guard against API-server tokens sent to Vault). The other cluster-scoped
resources (Namespaces, ClusterSecretStores, ClusterExternalSecrets, ClusterPushSecrets,
ClusterGenerators) are only read by a cluster-wide operator. A test keeps these
lists true to the API server's discovery.
*/}}
{{- define "baosync.rules" -}}
{{- $rules := index . 0 }}
{{- $which := index . 1 }}
{{- $clusterScoped := list "namespaces" "tokenreviews" "subjectaccessreviews" "clustersecretstores" "clustersecretstores/status" "clusterexternalsecrets" "clusterexternalsecrets/status" "clusterpushsecrets" "clusterpushsecrets/status" "clustergenerators" }}
{{- $reviews := list "tokenreviews" "subjectaccessreviews" }}
{{- $out := list }}
{{- range $rules }}
{{- $keep := list }}
{{- range .resources }}
{{- if or (eq $which "all") (and (eq $which "namespaced") (not (has . $clusterScoped))) (and (eq $which "reviews") (has . $reviews)) }}
{{- $keep = append $keep . }}
{{- end }}
{{- end }}
{{- if $keep }}
{{- $out = append $out (dict "apiGroups" .apiGroups "resources" $keep "verbs" .verbs) }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}
