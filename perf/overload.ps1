#!/usr/bin/env pwsh
# Past capacity: the model's maximum throughput measured first (closed loop, 16 clients), then an
# open loop offering -Factor times that for -Duration seconds. Reports what the server admitted
# (200s: their p99 against the model's deadline) and refused (429/503/504: how fast), and samples
# the server's resident memory and managed heap every second. Writes perf/results/overload-<date>.md.
#   dotnet pwsh build.ps1 overload        (builds Release, then runs this with the defaults)
#   dotnet pwsh perf/overload.ps1 [-Model image-classifier] [-Factor 3] [-Duration 60] [-Out name]
# Target (issue 6): admitted p99 within the deadline (balanced QoS: 20 ms), refusals fast, no crash,
# memory flat.
param(
    [string] $Model = 'image-classifier',
    [double] $Factor = 3,
    [double] $Duration = 60,
    [string] $Out = ''
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
. ./perf/common.ps1
$name = New-ResultFolder $Out 'overload'
$dir = "perf/results/$name"
# The golden request, asking for the balanced QoS class: its deadline (20 ms by default) is what
# admission control holds admitted requests to.
$golden = Join-Path ([System.IO.Path]::GetTempPath()) "ll-overload-request-$PID.json"
$doc = Get-Content -Raw "models/$Model/golden/batch1.json" | ConvertFrom-Json -AsHashtable
$doc.request.parameters = @{ qos = 'balanced' }
$doc | ConvertTo-Json -Depth 20 -Compress | Set-Content $golden

function Rss([int] $id) { [double]((Get-Content "/proc/$id/status" | Select-String '^VmRSS:').ToString() -replace '[^0-9]', '') / 1024 }
function Heap() {
    $m = (Invoke-WebRequest -Uri "$base/metrics").Content -split "`n" | Select-String '^dotnet_total_memory_bytes ' | Select-Object -First 1
    return [double]($m.ToString().Split(' ')[1]) / 1MB
}

$p = Start-Server
try {
    # Capacity without a deadline (no qos): what the model can do when nothing is refused.
    $capLine = & dotnet $loadgen --label capacity --url "$base/v2/models/$Model/infer" --golden "models/$Model/golden/batch1.json" --encoding msgpack --concurrency 16 --duration 10 --warmup 2 --json "$dir/capacity.json" 2>$null
    Write-Host $capLine
    $max = [double]([regex]::Match($capLine, '(\d+) req/s').Groups[1].Value)
    $rate = [math]::Round($max * $Factor)

    $stdout = "$dir/overload.txt"
    $lg = Start-Process dotnet -ArgumentList @($loadgen, '--label', "overload-x$Factor", '--url', "$base/v2/models/$Model/infer", '--golden', $golden,
        '--encoding', 'msgpack', '--rate', $rate, '--duration', $Duration, '--warmup', 2, '--json', "$dir/overload.json") -PassThru -RedirectStandardOutput $stdout -RedirectStandardError /dev/null
    $samples = @()
    $t0 = Get-Date
    while (-not $lg.HasExited) {
        Start-Sleep -Seconds 1
        if ($p.HasExited) { throw 'the server exited during the overload' }
        $samples += [pscustomobject]@{ s = [math]::Round(((Get-Date) - $t0).TotalSeconds); rss = [math]::Round((Rss $p.Id), 1); heap = [math]::Round((Heap), 1) }
    }
    $line = Get-Content $stdout | Where-Object { $_ -match 'req/s' } | Select-Object -Last 1
    Write-Host $line
    $ready = (Invoke-WebRequest -Uri "$base/v2/health/ready" -SkipHttpErrorCheck).StatusCode
    $after = & dotnet $loadgen --label after --url "$base/v2/models/$Model/infer" --golden $golden --encoding msgpack --concurrency 1 --duration 3 --warmup 1 2>$null
} finally {
    Stop-Process -Id $p.Id -Force
}

$r = Get-Content "$dir/overload.json" | ConvertFrom-Json
$samples | ConvertTo-Json | Set-Content "$dir/memory.json"
$steady = @($samples | Where-Object { $_.s -ge 10 })
$rssFirst = $steady[0].rss; $rssLast = $steady[-1].rss; $rssMax = ($steady | Measure-Object rss -Maximum).Maximum
$heapMax = ($steady | Measure-Object heap -Maximum).Maximum
$statuses = ($r.statuses.PSObject.Properties | ForEach-Object { "$($_.Name): $($_.Value)" }) -join ', '
$ok = $r.by_outcome.ok; $refused = $r.by_outcome.refused; $okServer = $r.by_outcome.ok_server
$cpu = Get-CpuName
$load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
$md = @(
    "# Overload: $Factor× capacity for $Duration s ($date)",
    '',
    "Command: ``dotnet pwsh perf/overload.ps1 -Model $Model -Factor $Factor -Duration $Duration`` (after ``dotnet pwsh build.ps1 build``)",
    "Machine: $cpu, $([Environment]::ProcessorCount) cores, load average $load at the end (other tenants); server and load generator on the same cores.",
    '',
    "- Capacity ($Model, MessagePack, closed loop, 16 clients, 10 s): **$max req/s** — ``$capLine``",
    "- Offered: open loop at **$rate req/s** ($Factor×) for $Duration s, each request asking for the balanced QoS class (20 ms deadline); the load generator achieved $([math]::Round($r.throughput)) answers/s.",
    "- Answers: $statuses.",
    "- Admitted (200) p50 / p99 / max, in the server (Server-Timing queue + compute + overhead): **$($okServer[0]) / $($okServer[1]) / $($okServer[2]) µs** against the balanced class's 20,000 µs deadline.",
    "- The same at the client (from each request's intended start: the load generator's lag, the connection and the machine's run queue included): $($ok[0]) / $($ok[1]) / $($ok[2]) µs.",
    "- Refused p50 / p99 / max: **$($refused[0]) / $($refused[1]) / $($refused[2]) µs**.",
    "- Server resident memory from 10 s on: $rssFirst MiB → $rssLast MiB (max $rssMax MiB); managed heap max $heapMax MiB; samples in ``$name/memory.json``.",
    "- After the run: readiness $ready; one client for 3 s: ``$after``.",
    '',
    "Full result line: ``$line``",
    ''
)
$md -join "`n" | Set-Content "perf/results/$name.md"
Write-Host ($md -join "`n")
