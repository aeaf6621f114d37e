{{/* Names and labels shared by every template. */}}
{{- define "kubegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubegate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kubegate.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kubegate.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubegate.labels" -}}
{{ include "kubegate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kubegate
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kubegate.serviceAccountName" -}}
{{- default (include "kubegate.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret holding the serving certificate (tls.crt, tls.key). */}}
{{- define "kubegate.tlsSecretName" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-serving-cert" (include "kubegate.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* DNS names the aggregator uses to reach the Service (it dials <service>.<namespace>.svc). */}}
{{- define "kubegate.dnsNames" -}}
{{- $svc := include "kubegate.fullname" . -}}
{{- list (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | toJson -}}
{{- end -}}

{{/* Every group-version served: kubegate's own (the Adapter status resource) and each adapter's. */}}
{{- define "kubegate.groupVersions" -}}
{{- $priority := .Values.apiService.versionPriority -}}
{{- $out := list (dict "group" "kubegate.dev" "version" "v1alpha1" "versionPriority" $priority) -}}
{{- range .Values.adapters -}}
{{- range .apiServices -}}
{{- $out = append $out (dict "group" .group "version" .version "versionPriority" (.versionPriority | default $priority)) -}}
{{- end -}}
{{- end -}}
{{- $out | toJson -}}
{{- end -}}

{{/* Adapter API groups (distinct), for RBAC. */}}
{{- define "kubegate.adapterGroups" -}}
{{- $out := list -}}
{{- range .Values.adapters -}}
{{- range .apiServices -}}
{{- $out = append $out .group -}}
{{- end -}}
{{- end -}}
{{- $out | uniq | toJson -}}
{{- end -}}

{{/* Names of the credential Secrets the adapters read (distinct). */}}
{{- define "kubegate.credentialSecrets" -}}
{{- $out := list -}}
{{- range .Values.credentials -}}
{{- $out = append $out .secretName -}}
{{- end -}}
{{- $out | uniq | toJson -}}
{{- end -}}
