{{/*
Shared helpers of the QTS chart. The services come from files/services.json (generated from the
service registry and the call graph by crates/ops/src/helm.rs): never list them here.
*/}}

{{/* The generated registry: {"gateway": {...}, "services": [...]}. */}}
{{- define "qts.registry" -}}
{{- .Files.Get "files/services.json" -}}
{{- end -}}

{{/* helm.sh/chart label value. */}}
{{- define "qts.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image tag: image.tag or the chart's appVersion. */}}
{{- define "qts.version" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/*
Standard labels. Call with (dict "root" $ "name" <name> "component" <service|gateway|fleet>).
*/}}
{{- define "qts.labels" -}}
helm.sh/chart: {{ include "qts.chart" .root }}
{{ include "qts.selectorLabels" . }}
app.kubernetes.io/version: {{ include "qts.version" .root | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: qts
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
qts.io/environment: {{ .root.Values.global.environment }}
{{- end -}}

{{/* Selector labels: (dict "root" $ "name" <name>). */}}
{{- define "qts.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Labels of every pod of the release (the default-deny policy selects them). */}}
{{- define "qts.releaseSelector" -}}
app.kubernetes.io/part-of: qts
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
One service's values: defaults overridden by services.<name>, as YAML (read back with fromYaml).
(dict "root" $ "name" <name>)
*/}}
{{- define "qts.serviceValues" -}}
{{- $own := index .root.Values.services .name | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $own)) -}}
{{- end -}}

{{/* The image of service <name>: (dict "root" $ "name" <name>). */}}
{{- define "qts.image" -}}
{{- $i := .root.Values.image -}}
{{- $repo := ternary (printf "%s-%s" $i.repository .name) $i.repository (eq $i.layout "perService") -}}
{{- if $i.digest -}}
{{- printf "%s/%s@%s" $i.registry $repo $i.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $i.registry $repo (include "qts.version" .root) -}}
{{- end -}}
{{- end -}}

{{/* The name of the shared ConfigMap and of the inline Secret. */}}
{{- define "qts.envName" -}}
{{- printf "%s-env" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The shared environment of one service (ConfigMap data lines): its listeners on every address,
its data directory, and the shared sections. (dict "root" $ "svc" <services.json entry>)
*/}}
{{- define "qts.sharedEnv" -}}
{{- $p := .svc.envPrefix -}}
{{- $c := .root.Values.config -}}
{{ $p }}__HTTP__BIND: "0.0.0.0"
{{ $p }}__GRPC__BIND: "0.0.0.0"
{{ $p }}__ADMIN__BIND: "0.0.0.0"
{{ $p }}__DATA_DIR: "/var/lib/qts"
{{ $p }}__BUS__KIND: {{ $c.bus.kind | quote }}
{{ $p }}__BUS__KAFKA__BROKERS: {{ $c.bus.kafka.brokers | quote }}
{{ $p }}__BUS__KAFKA__REPLICATION_FACTOR: {{ $c.bus.kafka.replicationFactor | quote }}
{{ $p }}__BUS__KAFKA__IDEMPOTENCE: {{ $c.bus.kafka.idempotence | quote }}
{{ $p }}__BUS__KAFKA__NAMESPACE: {{ $c.bus.kafka.namespace | quote }}
{{- if and $c.database.url (not $c.database.existingSecret) }}
{{ $p }}__DATABASE__URL: {{ $c.database.url | quote }}
{{- end }}
{{ $p }}__DATABASE__MAX_CONNECTIONS: {{ $c.database.maxConnections | quote }}
{{ $p }}__CACHE__KIND: {{ $c.cache.kind | quote }}
{{- if and $c.cache.url (not $c.cache.existingSecret) }}
{{ $p }}__CACHE__URL: {{ $c.cache.url | quote }}
{{- end }}
{{ $p }}__TELEMETRY__LOG_FORMAT: {{ $c.telemetry.logFormat | quote }}
{{ $p }}__TELEMETRY__LOG_LEVEL: {{ $c.telemetry.logLevel | quote }}
{{ $p }}__TELEMETRY__OTLP_ENDPOINT: {{ $c.telemetry.otlpEndpoint | quote }}
{{ $p }}__AUTH__ISSUER: {{ $c.auth.issuer | quote }}
{{ $p }}__AUTH__AUDIENCE: {{ $c.auth.audience | quote }}
{{- if $c.auth.ssoUrl }}
{{ $p }}__AUTH__SSO_URL: {{ $c.auth.ssoUrl | quote }}
{{- end }}
{{- if eq .svc.name "sso" }}
SSO__TOKENS__ISSUER: {{ $c.auth.issuer | quote }}
SSO__TOKENS__AUDIENCE: {{ $c.auth.audience | quote }}
{{- end }}
{{ $p }}__REMOTE_CONFIG__ENABLED: {{ $c.remoteConfig.enabled | quote }}
{{ $p }}__REMOTE_CONFIG__ENVIRONMENT: {{ $c.remoteConfig.environment | quote }}
{{ $p }}__SHUTDOWN__GRACE_PERIOD_SECS: {{ $c.shutdown.gracePeriodSecs | quote }}
{{- include "qts.ssiEnv" . }}
{{- end -}}

{{/*
The broker's plain settings of one service (ConfigMap lines); its credentials are secretKeyRefs
(qts.ssiSecretEnv). (dict "root" $ "svc" <entry>)
*/}}
{{- define "qts.ssiEnv" -}}
{{- $s := .root.Values.ssi -}}
{{- $p := .svc.envPrefix -}}
{{- if $s.generation }}
{{- if eq .svc.name "config" }}
{{- if eq $s.tokens "config" }}
CONFIG__SSI__ENABLED: "true"
CONFIG__SSI__GENERATION: {{ $s.generation | quote }}
{{- with $s.dataUrl }}
CONFIG__SSI__DATA_URL: {{ . | quote }}
{{- end }}
{{- with $s.tradingUrl }}
CONFIG__SSI__TRADING_URL: {{ . | quote }}
{{- end }}
{{- with $s.apiUrl }}
CONFIG__SSI__API_URL: {{ . | quote }}
{{- end }}
{{- end }}
{{- else if has .svc.name (list "ingestion" "historical" "master-data" "oms") }}
{{ $p }}__BROKER__GENERATION: {{ $s.generation | quote }}
{{ $p }}__BROKER__TOKENS: {{ $s.tokens | quote }}
{{- if eq $s.generation "v2" }}
{{ $p }}__BROKER__DATA__URL: {{ $s.dataUrl | default "https://fc-data.ssi.com.vn" | quote }}
{{- if and (eq .svc.name "oms") $s.tradingUrl }}
{{ $p }}__BROKER__TRADING__URL: {{ $s.tradingUrl | quote }}
{{- end }}
{{- else }}
{{- with $s.apiUrl }}
{{ $p }}__BROKER__API_URL: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* One env entry from a Secret key: (list <env name> <secret> <key> <optional>). */}}
{{- define "qts.secretRef" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
      optional: {{ index . 3 }}
{{- end -}}

{{/*
The secret environment of one service (container env entries): database and cache URLs, its
client secret (and every service account's for the SSO), SSI credentials.
(dict "root" $ "svc" <entry> "all" <services list>)
*/}}
{{- define "qts.secretEnv" -}}
{{- $c := .root.Values.config -}}
{{- $s := .root.Values.ssi -}}
{{- $p := .svc.envPrefix -}}
{{- $name := .svc.name -}}
{{- if $c.database.existingSecret }}
{{ include "qts.secretRef" (list (printf "%s__DATABASE__URL" $p) $c.database.existingSecret $c.database.key false) }}
{{- end }}
{{- if $c.cache.existingSecret }}
{{ include "qts.secretRef" (list (printf "%s__CACHE__URL" $p) $c.cache.existingSecret $c.cache.key false) }}
{{- end }}
{{- with $c.auth.clientSecrets.existingSecret }}
{{ include "qts.secretRef" (list (printf "%s__AUTH__CLIENT_SECRET" $p) . $name true) }}
{{- if eq $name "sso" }}
{{- $secret := . }}
{{- range $.all }}
{{- if ne .name "sso" }}
{{ include "qts.secretRef" (list (printf "SSO__BOOTSTRAP__SERVICE_CLIENTS__%s" (upper .name)) $secret .name true) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $s.generation $s.existingSecret }}
{{- $sec := $s.existingSecret }}
{{- if and (eq $name "config") (eq $s.tokens "config") }}
{{- if eq $s.generation "v2" }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__DATA_CONSUMER_ID" $sec "data-consumer-id" false) }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__DATA_CONSUMER_SECRET" $sec "data-consumer-secret" false) }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__TRADING_CONSUMER_ID" $sec "trading-consumer-id" true) }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__TRADING_CONSUMER_SECRET" $sec "trading-consumer-secret" true) }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__TRADING_PIN" $sec "trading-pin" true) }}
{{- else }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__V3_API_KEY" $sec "v3-api-key" false) }}
{{ include "qts.secretRef" (list "CONFIG__SSI__SEED__V3_API_SECRET" $sec "v3-api-secret" false) }}
{{- end }}
{{- end }}
{{- if has $name (list "ingestion" "historical" "master-data" "oms") }}
{{- if eq $s.generation "v2" }}
{{- if eq $s.tokens "own" }}
{{ include "qts.secretRef" (list (printf "%s__BROKER__DATA__CONSUMER_ID" $p) $sec "data-consumer-id" false) }}
{{ include "qts.secretRef" (list (printf "%s__BROKER__DATA__CONSUMER_SECRET" $p) $sec "data-consumer-secret" false) }}
{{- end }}
{{- if eq $name "oms" }}
{{- if eq $s.tokens "own" }}
{{ include "qts.secretRef" (list "OMS__BROKER__TRADING__CONSUMER_ID" $sec "trading-consumer-id" false) }}
{{ include "qts.secretRef" (list "OMS__BROKER__TRADING__CONSUMER_SECRET" $sec "trading-consumer-secret" false) }}
{{ include "qts.secretRef" (list "OMS__BROKER__TRADING__PIN" $sec "trading-pin" true) }}
{{- end }}
{{ include "qts.secretRef" (list "OMS__BROKER__TRADING__PRIVATE_KEY" $sec "trading-private-key" false) }}
{{- end }}
{{- else }}
{{ include "qts.secretRef" (list (printf "%s__BROKER__API_KEY" $p) $sec "v3-api-key" false) }}
{{- if eq $s.tokens "own" }}
{{ include "qts.secretRef" (list (printf "%s__BROKER__API_SECRET" $p) $sec "v3-api-secret" false) }}
{{- end }}
{{- if eq $name "oms" }}
{{ include "qts.secretRef" (list "OMS__BROKER__PRIVATE_KEY" $sec "v3-private-key" false) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A NetworkPolicyPeer selecting the pods of service <name> in this release: (dict "root" $ "name" <name>). */}}
{{- define "qts.peer" -}}
- podSelector:
    matchLabels:
      {{- include "qts.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/*
A NetworkPolicy egress rule to an external backend: (dict "b" <backend values>). Without cidrs
or peers, its ports to any destination.
*/}}
{{- define "qts.backendEgress" -}}
- ports:
    {{- range .b.ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
  {{- if or .b.cidrs .b.peers }}
  to:
    {{- range .b.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
    {{- with .b.peers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end -}}
