#!/usr/bin/env pwsh
# The stream processor's numbers (issue 26): events per second through one processor for count and
# sum windows (and the example's three views), beside what redis-server itself does here for XADD
# and XREADGROUP (redis-benchmark); the delay from an event's append to its window's row in the
# online store, beyond the watermark delay; managed memory per active key. Starts its own
# redis-server on a free port (no persistence) and writes perf/results/streams-<date>.md.
#   dotnet pwsh build.ps1 streams-bench      (builds Release, then runs this with the defaults)
#   dotnet pwsh perf/streams.ps1 [-Runs 3] [-Events 2000000] [-Rate 20000] [-Seconds 20] [-Out name]
# Targets: >= 200,000 events/s (count and sum windows); p99 <= 50 ms beyond the watermark delay.
param(
    [int] $Runs = 3,
    [long] $Events = 2000000,
    [long] $Rate = 20000,
    [int] $Seconds = 20,
    [string] $Out = ''
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
. ./perf/common.ps1
$bench = 'perf/StreamBench/bin/Release/net10.0/streambench.dll'
$name = if ($Out) { $Out } else { "streams-$date" }
for ($n = 2; -not $Out -and (Test-Path "perf/results/$name.md"); $n++) { $name = "streams-$date-$n" }
$md = "perf/results/$name.md"

$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$dir = Join-Path ([System.IO.Path]::GetTempPath()) "ll-streams-bench-$PID"
New-Item -ItemType Directory -Force $dir | Out-Null
$redis = Start-Process redis-server -ArgumentList @('--port', $port, '--bind', '127.0.0.1', '--save', '""', '--appendonly', 'no', '--dir', $dir, '--logfile', "$dir/redis.log") -PassThru
$connection = "127.0.0.1:$port"
function Invoke-RedisCli { & redis-cli -p $port @args }
function Load { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' }

try {
    for ($i = 0; $i -lt 100 -and (Invoke-RedisCli PING) -ne 'PONG'; $i++) { Start-Sleep -Milliseconds 50 }
    $loadBefore = Load

    # What Redis itself does here: appends of an event like the generator's (64 pipelined), and reads
    # of 1,000 entries per XREADGROUP by one client in a loop (as one processor reads a partition) and
    # by 50 at once. Each read is counted as its 1,000 entries.
    $xadd = & redis-benchmark -p $port -n 1000000 -P 64 -q XADD rb '*' user_id 4242 ts 1700000000000 type impression item_id 77 dwell_ms 1500 2>&1 | Select-String 'requests per second' | Select-Object -Last 1
    Invoke-RedisCli XGROUP CREATE rb g1 0 | Out-Null
    Invoke-RedisCli XGROUP CREATE rb g50 0 | Out-Null
    $read1 = & redis-benchmark -p $port -n 900 -c 1 -q XREADGROUP GROUP g1 c COUNT 1000 STREAMS rb '>' 2>&1 | Select-String 'requests per second' | Select-Object -Last 1
    $read50 = & redis-benchmark -p $port -n 900 -c 50 -q XREADGROUP GROUP g50 c COUNT 1000 STREAMS rb '>' 2>&1 | Select-String 'requests per second' | Select-Object -Last 1
    function Rps($line) { [double]([regex]::Match("$line", '([\d.]+) requests per second').Groups[1].Value) }
    Invoke-RedisCli FLUSHALL | Out-Null

    $throughput = @()
    for ($r = 1; $r -le $Runs; $r++) {
        $throughput += & dotnet $bench throughput --connection-string $connection --views count-sum --events $Events
        Write-Host $throughput[-1]
        Invoke-RedisCli FLUSHALL | Out-Null
    }
    $example = & dotnet $bench throughput --connection-string $connection --views example --events ([math]::Min($Events, 200000)) --keys 20000
    Write-Host $example
    Invoke-RedisCli FLUSHALL | Out-Null
    $latency = @()
    for ($r = 1; $r -le [math]::Max(1, [math]::Floor($Runs / 2)); $r++) {
        $latency += & dotnet $bench latency --connection-string $connection --views count-sum --rate $Rate --seconds $Seconds --window-ms 1000 --delay-ms 100
        Write-Host $latency[-1]
        Invoke-RedisCli FLUSHALL | Out-Null
    }
    $memory = @((& dotnet $bench memory --views count-sum), (& dotnet $bench memory --views example))
    $memory | ForEach-Object { Write-Host $_ }
    $loadAfter = Load
    $commit = (git rev-parse --short HEAD)
    $redisVersion = (& redis-server --version).Split(' ')[2]

    @"
# Stream processor, $date

``dotnet pwsh build.ps1 streams-bench`` (perf/streams.ps1 -Runs $Runs -Events $Events -Rate $Rate -Seconds $Seconds) at $commit, $(Get-CpuName), $(nproc) cores shared by
redis-server, the processor and the load (the generator, the store's reader); redis-server $redisVersion on loopback, no persistence.
Load average before and after: $loadBefore; $loadAfter (other work on the machine counts against every number here).

## What Redis does here (redis-benchmark)

| command | per second | entries per second |
|---|---|---|
| XADD, 64 pipelined, 1 M appends | $(Rps $xadd) | $(Rps $xadd) |
| XREADGROUP COUNT 1000, 1 client in a loop | $(Rps $read1) | $([math]::Round((Rps $read1) * 1000)) |
| XREADGROUP COUNT 1000, 50 clients | $(Rps $read50) | $([math]::Round((Rps $read50) * 1000)) |

## Events per second through one processor

A log appended first (generator: Zipf 0.8 over the keys, 10 % out of order within 1 s, 0.1 % late by 3-6 s), then one processor
(4 partitions, batches of 2,000, checkpoints every 200 ms) from its first entry to every partition checkpointed at the log's end.
CPU s: this process (processor and its Redis client) and redis-server over that time. Target: >= 200,000 events/s for count and sum windows.

| views | events | keys | partitions | batch | appended/s | **processed/s** | s | CPU s, processor | CPU s, redis | checkpoints | rows written |
|---|---|---|---|---|---|---|---|---|---|---|---|
$($throughput -join "`n")
$example

## End-to-end delay

Events appended at a steady rate with the wall clock as event time; tumbling windows of 1 s, watermark delay 100 ms; a reader polls
the rows of the 16 busiest users every ms. Delay beyond the watermark delay = when the reader first sees a window's row − (window end +
watermark delay), ms, over every (user, window) after the first two windows. Target: p99 <= 50 ms.

| views | events/s | s | window ms | delay ms | samples | p50 ms | **p99 ms** | max ms |
|---|---|---|---|---|---|---|---|---|
$($latency -join "`n")

## Memory per active key

One partition's engine, one event for each of 100,000 keys (one window per view, or size / slide for a sliding one): managed heap
after a full collection, less before, per key; beside it what the engine counts against the per-key cap.

| views | keys | windows per key | **B per key, heap** | B per key, counted |
|---|---|---|---|---|
$($memory -join "`n")
"@ | Set-Content $md
    Write-Host "wrote $md"
} finally {
    Stop-Process -Id $redis.Id -Force -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
}
