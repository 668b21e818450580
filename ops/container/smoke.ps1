#!/usr/bin/env pwsh
# The image's smoke test: `dotnet pwsh build.ps1 image-smoke`. Builds the image (build-image.ps1),
# runs it as production would (read-only root file system, a tmpfs /tmp, every capability dropped,
# no new privileges, listening on 0.0.0.0 and so with an API key), published on a loopback port only;
# passes every golden case of models/ through it over HTTP (8000) and gRPC (8001); checks that a request without the key is refused
# and that /metrics serves the series the autoscaler reads; then sends SIGTERM and checks the drain:
# readiness 503, new requests 503 with Retry-After, exit code 0, the log's "0 accepted requests
# unanswered". Exit code 0 when all of it holds; where podman cannot be installed it prints why and
# exits 0 (skipped), or 1 with -Require.
param(
    [switch] $Require,
    # An image already built (skips the build): localhost/lowlatency:<version>
    [string] $Image,
    [int] $DrainDelaySeconds = 3
)

$ErrorActionPreference = 'Stop'
$Root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Set-Location $Root
. (Join-Path $PSScriptRoot 'podman.ps1')

$problem = Get-PodmanProblem -Build:(-not $Image)
if ($problem) {
    Write-Host "image-smoke: skipped: $problem"
    exit ($Require ? 1 : 0)
}

$started = Get-Date
# An image of its own, removed at the end with the build's intermediate images: repeated CI runs on
# one machine would otherwise keep about 460 MB of layers each.
$built = -not $Image
if ($built) {
    & (Join-Path $PSScriptRoot 'build-image.ps1') -Tag localhost/lowlatency-smoke
    $Image = (Get-Content (Join-Path $Root 'out/image/tag')).Trim()
}
$builtAt = Get-Date

$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$base = "http://127.0.0.1:$port"
$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start(); $grpcPort = $listener.LocalEndpoint.Port; $listener.Stop()
$key = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(24))
$name = "lowlatency-smoke-$PID"
$failures = [System.Collections.Generic.List[string]]::new()

function Check([bool] $Condition, [string] $What) {
    Write-Host ("image-smoke: {0} {1}" -f ($Condition ? 'ok  ' : 'FAIL'), $What)
    if (-not $Condition) { $failures.Add($What) }
}

function Get-Status([string] $Path, [hashtable] $Headers = @{}, [string] $Method = 'GET', [string] $Body) {
    try {
        $r = Invoke-WebRequest -Uri "$base$Path" -Method $Method -Headers $Headers -Body $Body -ContentType 'application/json' -SkipHttpErrorCheck -TimeoutSec 10
        return $r
    } catch {
        return $null
    }
}

# The tmpfs is where the server writes its patched libLibTorchSharp.so and maps it from: not noexec.
$run = @('run', '--detach', '--name', $name,
    '--read-only', '--read-only-tmpfs=false', '--tmpfs', '/tmp:rw,exec,nosuid,nodev,size=256m',
    '--cap-drop=ALL', '--security-opt', 'no-new-privileges',
    '--publish', "127.0.0.1:${port}:8000", '--publish', "127.0.0.1:${grpcPort}:8001",
    '--env', "LowLatency__Auth__ApiKeys__0__Key=$key", '--env', 'LowLatency__Auth__ApiKeys__0__Subject=smoke',
    '--env', 'LowLatency__Auth__ApiKeys__0__Scopes__0=infer:*', '--env', 'LowLatency__Auth__ApiKeys__0__Scopes__1=features:write',
    '--env', 'LowLatency__Auth__ApiKeys__0__Scopes__2=admin',
    '--env', "LowLatency__DrainDelaySeconds=$DrainDelaySeconds", '--env', 'LowLatency__DrainTimeoutSeconds=10',
    $Image)
Write-Host "image-smoke: podman $($run -join ' ' -replace [regex]::Escape($key), '<key>')"
& podman @run | Out-Null
if ($LASTEXITCODE -ne 0) { Write-Host "image-smoke: FAIL podman run exited $LASTEXITCODE"; exit 1 }

try {
    $ready = $false
    for ($i = 0; $i -lt 600 -and -not $ready; $i++) {
        Start-Sleep -Milliseconds 200
        $state = (& podman inspect --format '{{.State.Status}}' $name).Trim()
        if ($state -ne 'running') { break }
        $r = Get-Status '/v2/health/ready'
        $ready = $r -and $r.StatusCode -eq 200
    }
    Check $ready "ready on 127.0.0.1:$port within $([int]((Get-Date) - $builtAt).TotalSeconds) s (loading and warming up the models)"
    if (-not $ready) { throw 'not ready' }

    $user = (& podman exec $name id -u).Trim()
    Check ($user -eq '10001') "runs as uid $user, not root"
    & podman exec $name touch /opt/lowlatency/probe 2>$null
    Check ($LASTEXITCODE -ne 0) 'the root file system is read-only'

    & /usr/bin/python3 ops/container/golden.py --url $base --api-key $key models
    Check ($LASTEXITCODE -eq 0) 'every golden case answered as PyTorch answers it (feature-joined ones after pushing their rows to the baked-in feature repository)'

    # gRPC through the container's 8001: the Python client with stubs from protocol/ (as build.ps1 test runs it).
    & /usr/bin/python3 -c 'import grpc, grpc_tools, numpy' 2>$null
    if ($LASTEXITCODE -ne 0) {
        Write-Host 'image-smoke: skipped gRPC through the image: /usr/bin/python3 lacks grpc, grpc_tools or numpy (apt-get install python3-grpcio python3-grpc-tools python3-numpy)'
    } else {
        & /usr/bin/python3 tests/python/grpc_golden.py --target "127.0.0.1:$grpcPort" --models models --api-key $key
        Check ($LASTEXITCODE -eq 0) "gRPC on 127.0.0.1:$grpcPort (the image's 8001): every golden case, a stream, metadata and errors"
    }

    $golden = Get-Content -Raw models/ctr-ranker/golden/batch1.json | ConvertFrom-Json

    $body = $golden.request | ConvertTo-Json -Depth 10 -Compress
    $r = Get-Status '/v2/models/ctr-ranker/infer' -Method POST -Body $body
    Check ($r -and $r.StatusCode -eq 401) "without the API key: $($r.StatusCode) (401 expected)"
    $r = Get-Status '/metrics'
    Check ($r -and $r.StatusCode -eq 200 -and $r.Content -match '(?m)^lowlatency_engine_request_queue_count\{model="ctr-ranker"') '/metrics open, serving lowlatency_engine_request_queue_count (the autoscaler reads it)'

    $term = Get-Date
    & podman kill --signal TERM $name | Out-Null
    Start-Sleep -Milliseconds 300
    $r = Get-Status '/v2/health/ready'
    Check ($r -and $r.StatusCode -eq 503) "after SIGTERM, readiness: $($r.StatusCode) (503 expected)"
    $r = Get-Status '/v2/models/ctr-ranker/infer' -Method POST -Body $body -Headers @{ 'X-Api-Key' = $key }
    Check ($r -and $r.StatusCode -eq 503 -and $r.Headers['Retry-After']) "during the drain delay, a request: $($r.StatusCode) with Retry-After $($r.Headers['Retry-After']) (503 expected)"
    $code = (& podman wait $name).Trim()
    $seconds = ((Get-Date) - $term).TotalSeconds
    Check ($code -eq '0') ("exit code {0} {1:N1} s after SIGTERM (DrainDelaySeconds={2})" -f $code, $seconds, $DrainDelaySeconds)
    $log = (& podman logs $name 2>&1) -join "`n"
    Check ($log -match 'stopped: 0 accepted requests unanswered') "the log says: stopped: 0 accepted requests unanswered"
    Check ($log -match 'loaded a copy of libLibTorchSharp.so') "the libstdc++ fix applied inside the image (the Runtime event)"
    if ($failures.Count -gt 0) { Write-Host "image-smoke: the server's log:`n$log" }
} catch {
    $failures.Add($_.ToString())
    Write-Host "image-smoke: FAIL $_"
    Write-Host "image-smoke: the server's log:"
    & podman logs $name 2>&1 | Select-Object -Last 60 | ForEach-Object { Write-Host "  $_" }
} finally {
    & podman rm --force --ignore $name *> $null
    if ($built) {
        & podman rmi --force $Image localhost/lowlatency-smoke:latest *> $null
        & podman image prune --force *> $null
    }
}

Write-Host ("image-smoke: {0}, {1:N0} s (build {2:N0} s)" -f ($failures.Count ? "$($failures.Count) checks failed" : 'passed'), ((Get-Date) - $started).TotalSeconds, ($builtAt - $started).TotalSeconds)
exit ($failures.Count ? 1 : 0)
