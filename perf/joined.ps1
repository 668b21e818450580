#!/usr/bin/env pwsh
# Feature-joined inference side by side (issue 25): the ranking model (models/candidate-ranker)
# called with entity ids, against the same TorchScript called with the ready tensors the join
# builds, against the Python peer doing the same join with redis-py (perf/peer/join.py). One run,
# interleaved repetitions, MessagePack, closed loop, c=1 and c=16, one load generator:
#   (a) server, ready tensors       candidate-ranker-tensors: the model's copy without `features`
#   (b) server, ids, near-cache hit  rows pushed, the near cache on and warm
#   (c) server, ids, cache miss      near_cache.capacity_bytes 0: every join is one MGET to redis-server
#   (a)+(b) alternating              one run whose clients alternate (a) and (b) requests: the hit's cost without the drift between runs
#   (a′) that server, ready tensors  paired with (c) in time (a c c a), the floor measured just before
#   (d) peer, ids                    FastAPI + redis-py + PyTorch, one MGET per request to that redis-server
#   (e) peer, ready tensors          the peer's own join cost is (d) − (e)
# and the Redis round trip's floor (redis-benchmark's MGET of the same keys, one client, and
# redis-py's in a loop). Starts its own redis-server on a free loopback port (no persistence) and
# the servers on 8002 (near cache) and 8005 (no near cache), the peer on 8003; all stopped on exit
# and on failure. Before timing, every target's answers are checked equal (perf/joined.py check).
# Writes perf/results/joined-<date>-<commit>.md and the plotted runs' JSON, the requests and the plots in
# perf/results/joined-<date>-<commit>/.
#   dotnet pwsh build.ps1 perf -Models candidate-ranker [-Repetitions 3] [-Duration 5] [-Warmup 2] [-NoPeer] [-Out name]
#   dotnet pwsh perf/joined.ps1 [-Rows 4] ...       (perf/side-by-side.ps1 calls it for candidate-ranker)
# Targets: a cache-hit join adds <= 5 µs at p50 over ready tensors; a miss adds one Redis round trip,
# not more; >= 5x the Python peer's throughput at c=16.
param(
    [int] $Repetitions = 3,
    [double] $Duration = 5,
    [double] $Warmup = 2,
    [int] $Rows = 4,
    [switch] $NoPeer,
    [string] $Out = ''
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
. ./perf/common.ps1
$python = '/usr/bin/python3'
$commit = (git rev-parse --short HEAD)
$name = if ($Out) { $Out } else { "joined-$date-$commit" }
for ($n = 2; -not $Out -and ((Test-Path "perf/results/$name.md") -or (Test-Path "perf/results/$name")); $n++) { $name = "joined-$date-$commit-$n" }
$dir = "perf/results/$name"
New-Item -ItemType Directory -Force $dir | Out-Null
if (-not $NoPeer) { Initialize-Peer }
& $python -c 'import numpy, redis, msgpack' 2>$null
if ($LASTEXITCODE -ne 0) { Initialize-Peer }

$model = 'models/candidate-ranker'
$tmp = Join-Path ([System.IO.Path]::GetTempPath()) "ll-joined-$PID"
$started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
$loadBefore = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '

function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    return $port
}

# A copy of feature_repo/ whose one store is the redis-server on $Port, with the near cache's bound.
function New-FeatureRepository([string] $Path, [long] $CapacityBytes) {
    Copy-Item -Recurse feature_repo $Path
    $store = Get-Content -Raw "$Path/feature_store.json" | ConvertFrom-Json -AsHashtable
    $store.online_stores = @{ default = @{ type = 'redis'; connection_string = "127.0.0.1:$redisPort" } }
    $store.near_cache.capacity_bytes = $CapacityBytes
    $store | ConvertTo-Json -Depth 10 | Set-Content "$Path/feature_store.json"
}

function Wait-Ready([System.Diagnostics.Process] $Process, [string] $Base) {
    for ($i = 0; $i -lt 600; $i++) {
        Start-Sleep -Milliseconds 100
        if ($Process.HasExited) { throw "$Base exited with $($Process.ExitCode) before it was ready" }
        try { if ((Invoke-WebRequest -Uri "$Base/v2/health/ready" -SkipHttpErrorCheck).StatusCode -eq 200) { return } } catch { }
    }
    throw "$Base did not become ready"
}

# The server (near cache on: 8002; off: 8005) or the peer (8003), once it answers ready.
function Start-Target([string] $Target) {
    switch ($Target) {
        'peer' {
            $p = Start-Process $python -ArgumentList @('perf/peer/server.py', '--port', '8003', '--models', "$tmp/models", '--feature-repository', "$tmp/features-no-cache") -PassThru -RedirectStandardOutput /dev/null
            $base = 'http://127.0.0.1:8003'
        }
        default {
            $port = if ($Target -eq 'cache') { 8002 } else { 8005 }
            $repository = if ($Target -eq 'cache') { "$tmp/features-cache" } else { "$tmp/features-no-cache" }
            $p = Start-Process dotnet -ArgumentList @($server, '--urls', "http://127.0.0.1:$port", '--LowLatency:Grpc:Urls=', '--model-repository', "$tmp/models", '--feature-repository', $repository, '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
            $base = "http://127.0.0.1:$port"
        }
    }
    $started.Add($p)
    Wait-Ready $p $base
    return @{ Process = $p; Base = $base }
}

function Stop-Target($t) {
    Stop-Process -Id $t.Process.Id -Force -ErrorAction SilentlyContinue
    $t.Process.WaitForExit(5000) | Out-Null
    $started.Remove($t.Process) | Out-Null
    Start-Sleep -Milliseconds 500
}

function Invoke-RedisCli { & redis-cli -p $redisPort @args }

# The Redis round trip's floor: redis-benchmark's MGET of the request's keys, one client, no
# pipelining (its p50, ms with µs resolution), and redis-py's in a loop.
function Measure-RedisFloor([int] $Rep) {
    $bench = & redis-benchmark -p $redisPort -n 20000 -c 1 -P 1 -q MGET @keys 2>&1 | Select-String 'requests per second' | Select-Object -Last 1
    $m = [regex]::Match("$bench", '([\d.]+) requests per second, p50=([\d.]+) msec')
    $py = & $python perf/joined.py rtt --port $redisPort --keys @keys --n 20000
    $pm = [regex]::Match("$py", 'p50 ([\d.]+) us p99 ([\d.]+) us')
    Write-Host "rep $Rep redis round trip`t$("$bench".Trim())`t$py"
    return @{ rep = $Rep; rps = [double]$m.Groups[1].Value; p50 = 1000 * [double]$m.Groups[2].Value; py50 = [double]$pm.Groups[1].Value; py99 = [double]$pm.Groups[2].Value; line = "$bench".Trim(); pyline = "$py" }
}

# A value of the server's Prometheus text (/metrics): the first sample whose line starts with $Prefix.
function Get-Metric([string] $Base, [string] $Prefix) {
    $line = (Invoke-WebRequest -Uri "$Base/metrics").Content -split "`n" | Where-Object { $_.StartsWith($Prefix) } | Select-Object -First 1
    if (-not $line) { return 0 }
    return [double]($line.Trim() -split ' ')[-1]
}

$runs = [ordered]@{}
function Invoke-Run([string] $Key, [string] $Url, [string] $Request, [string] $Mode, [int] $Rep) {
    $file = "$($Key -replace '[^A-Za-z0-9=.-]+', '_' -replace '^_', '')-rep$Rep"
    $json = "$dir/$file.json"
    for ($n = 2; Test-Path $json; $n++) { $json = "$dir/$file-$n.json" }
    $la = @('--label', $Key, '--url', $Url, '--golden', $Request, '--encoding', 'msgpack', '--concurrency', $Mode.Substring(2), '--duration', $Duration, '--warmup', $Warmup, '--json', $json)
    $line = & dotnet $loadgen @la 2>$null
    Write-Host "rep $Rep $Key`t$line"
    $r = Parse $line
    $result = Get-Content -Raw $json | ConvertFrom-Json -AsHashtable
    # Server-Timing features;dur (the server leaves it out where the join took under 1 µs).
    $f = $result.server.features
    $r.features = if ($f) { @{ p50 = [double]$f[0]; p99 = [double]$f[1]; share = [double]$f[2] / [math]::Max(1, $result.requests) } } else { $null }
    $r.json = $json
    $r.rep = $Rep
    if (-not $runs.Contains($Key)) { $runs[$Key] = @() }
    $runs[$Key] += , $r
}

# (a) and (b) in one run, each client alternating a request of one with a request of the other on
# its connection (loadgen --paired-url; which goes first alternates with the repetition): the
# difference of their p50s is free of the host's drift between separate runs, which at c=1 moves
# a p50 by more than the 5 µs target.
$pairs = @()
function Invoke-Paired($First, $Second, [string] $Mode, [int] $Rep) {
    if ($Rep % 2 -eq 0) { $First, $Second = $Second, $First }
    $json = "$dir/paired-$($Mode.Replace('=', ''))-rep$Rep"
    $la = @('--label', $First[0], '--url', $First[1], '--golden', $First[2], '--paired-label', $Second[0], '--paired-url', $Second[1], '--paired-golden', $Second[2],
        '--encoding', 'msgpack', '--concurrency', $Mode.Substring(2), '--duration', $Duration, '--warmup', $Warmup, '--json', "$json-first.json", '--paired-json', "$json-second.json")
    $out = @(& dotnet $loadgen @la 2>$null)
    if ($out.Count -ne 2) { throw "the paired run printed $($out.Count) lines: $out" }
    $r = @{ mode = $Mode; rep = $Rep; lines = $out }
    foreach ($i in 0, 1) {
        Write-Host "rep $Rep paired $Mode`t$($out[$i])"
        $r[$(if ($out[$i].StartsWith('(a)')) { 'a' } else { 'b' })] = Parse $out[$i]
    }
    $script:pairs += $r
}

$floors = @()
$mgets = @()
try {
    New-Item -ItemType Directory -Force "$tmp/models/candidate-ranker/1", "$tmp/models/candidate-ranker-tensors/1" | Out-Null
    Copy-Item "$model/config.json" "$tmp/models/candidate-ranker/config.json"
    Copy-Item "$model/1/model.pt" "$tmp/models/candidate-ranker/1/model.pt"
    # The same TorchScript called with ready tensors: the config without its features block.
    Copy-Item "$model/1/model.pt" "$tmp/models/candidate-ranker-tensors/1/model.pt"
    $config = Get-Content -Raw "$model/config.json" | ConvertFrom-Json -AsHashtable
    $config.Remove('features')
    $config.name = 'candidate-ranker-tensors'
    $config | ConvertTo-Json -Depth 10 | Set-Content "$tmp/models/candidate-ranker-tensors/config.json"

    $redisPort = Get-FreePort
    $redis = Start-Process redis-server -ArgumentList @('--port', $redisPort, '--bind', '127.0.0.1', '--save', '""', '--appendonly', 'no', '--dir', $tmp, '--logfile', "$tmp/redis.log") -PassThru
    $started.Add($redis)
    for ($i = 0; $i -lt 100 -and (Invoke-RedisCli PING 2>$null) -ne 'PONG'; $i++) { Start-Sleep -Milliseconds 50 }
    New-FeatureRepository "$tmp/features-cache" 67108864
    New-FeatureRepository "$tmp/features-no-cache" 0

    # The requests, from the golden: ids whose every row is PRESENT, and the tensors their join builds.
    & $python perf/joined.py requests --model $model --feature-repository feature_repo --rows $Rows --out $dir | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'perf/joined.py requests failed' }
    $ids = "$dir/ids-$Rows.json"
    $tensors = "$dir/tensors-$Rows.json"
    $keys = @(Get-Content "$dir/keys-$Rows.txt" | Where-Object { $_ })

    # Before timing: the rows pushed, and every target's answer equal to the server's over ready
    # tensors (the server's exactly; the peer's within 1e-6), JSON and MessagePack; the golden's own
    # request (rows not found included) against its expected outputs and feature statuses.
    $cache = Start-Target 'cache'
    $noCache = Start-Target 'miss'
    $peer = if ($NoPeer) { $null } else { Start-Target 'peer' }
    try {
        & $python perf/joined.py push --model $model --url $cache.Base
        if ($LASTEXITCODE -ne 0) { throw 'the push failed' }
        $check = @(& $python perf/joined.py check --model $model --tolerance 0 `
                "server-tensors=$($cache.Base)/v2/models/candidate-ranker-tensors/infer=$tensors" `
                "server-ids-cache=$($cache.Base)/v2/models/candidate-ranker/infer=$ids" `
                "server-ids-no-cache=$($noCache.Base)/v2/models/candidate-ranker/infer=$ids" `
                --golden "server-ids-cache=$($cache.Base)/v2/models/candidate-ranker/infer" `
                --golden "server-ids-no-cache=$($noCache.Base)/v2/models/candidate-ranker/infer")
        $checkOk = $LASTEXITCODE -eq 0
        if ($peer) {
            # The server's answer over ready tensors is the reference again, first in the list.
            $check += @(& $python perf/joined.py check --model $model --tolerance 1e-6 `
                    "server-tensors=$($cache.Base)/v2/models/candidate-ranker-tensors/infer=$tensors" `
                    "peer-tensors=$($peer.Base)/v2/models/candidate-ranker-tensors/infer=$tensors" `
                    "peer-ids=$($peer.Base)/v2/models/candidate-ranker/infer=$ids" `
                    --golden "peer-ids=$($peer.Base)/v2/models/candidate-ranker/infer")
            $checkOk = $checkOk -and $LASTEXITCODE -eq 0
        }
        $check | ForEach-Object { Write-Host $_ }
        if (-not $checkOk) { throw 'the answers differ: not timing them (see above)' }
    } finally {
        foreach ($t in @($cache, $noCache, $peer)) { if ($t) { Stop-Target $t } }
    }

    $modes = @('c=1', 'c=16')
    for ($rep = 1; $rep -le $Repetitions; $rep++) {
        $t = Start-Target 'cache'
        try {
            & $python perf/joined.py push --model $model --url $t.Base | Out-Null
            foreach ($mode in $modes) {
                # Ready tensors and ids twice each, a b b a (b a a b in even repetitions), so that a
                # drift of the machine during the four runs weighs on both alike.
                $ta = @('(a) server, ready tensors', "$($t.Base)/v2/models/candidate-ranker-tensors/infer", $tensors)
                $tb = @('(b) server, ids, near-cache hit', "$($t.Base)/v2/models/candidate-ranker/infer", $ids)
                $order = if ($rep % 2 -eq 1) { @($ta, $tb, $tb, $ta) } else { @($tb, $ta, $ta, $tb) }
                foreach ($s in $order) { Invoke-Run "$($s[0]) $mode" $s[1] $s[2] $mode $rep }
                Invoke-Paired $ta $tb $mode $rep
            }
        } finally { Stop-Target $t }

        $t = Start-Target 'miss'
        try {
            # The floor, with this server idle, just before the miss runs it is compared with.
            $floors += Measure-RedisFloor $rep
            Invoke-RedisCli CONFIG RESETSTAT | Out-Null
            # Round trips per joined request, each mode apart: the server's store reads (and their
            # time, StackExchange.Redis from the call to the reply) and redis-server's MGETs.
            $before = @{ requests = 0; fetches = 0; sum = 0; mget = 0 }
            foreach ($mode in $modes) {
                # Ready tensors on this server too, a c c a (c a a c in even repetitions): the miss's
                # cost is (c) − (a′), paired in time; the store is read only by (c).
                $ta = @('(a′) server without near cache, ready tensors', "$($t.Base)/v2/models/candidate-ranker-tensors/infer", $tensors)
                $tc = @('(c) server, ids, cache miss', "$($t.Base)/v2/models/candidate-ranker/infer", $ids)
                $order = if ($rep % 2 -eq 1) { @($ta, $tc, $tc, $ta) } else { @($tc, $ta, $ta, $tc) }
                foreach ($s in $order) { Invoke-Run "$($s[0]) $mode" $s[1] $s[2] $mode $rep }
                $now = @{
                    requests = Get-Metric $t.Base 'lowlatency_engine_request_duration_count{model="candidate-ranker",'
                    fetches = Get-Metric $t.Base 'lowlatency_features_store_fetch_duration_count'
                    sum = Get-Metric $t.Base 'lowlatency_features_store_fetch_duration_sum'
                    mget = [double]([regex]::Match(((Invoke-RedisCli INFO commandstats) -join "`n"), 'cmdstat_mget:calls=(\d+)').Groups[1].Value)
                }
                $g = @{ mode = $mode; requests = $now.requests - $before.requests; fetches = $now.fetches - $before.fetches; mget = $now.mget - $before.mget }
                $g.fetchMean = if ($g.fetches) { ($now.sum - $before.sum) / $g.fetches } else { 0 }
                $mgets += $g
                $before = $now
                Write-Host "rep $rep miss server $mode`: $($g.requests) joined requests, $($g.fetches) store reads (mean $([math]::Round($g.fetchMean, 1)) µs), $($g.mget) MGETs"
            }
        } finally { Stop-Target $t }

        if (-not $NoPeer) {
            $t = Start-Target 'peer'
            try {
                foreach ($mode in $modes) {
                    $td = @('(d) peer, ids', "$($t.Base)/v2/models/candidate-ranker/infer", $ids)
                    $te = @('(e) peer, ready tensors', "$($t.Base)/v2/models/candidate-ranker-tensors/infer", $tensors)
                    foreach ($s in $(if ($rep % 2 -eq 1) { @($td, $te) } else { @($te, $td) })) { Invoke-Run "$($s[0]) $mode" $s[1] $s[2] $mode $rep }
                }
            } finally { Stop-Target $t }
        }
    }
} finally {
    foreach ($p in @($started)) { Stop-Process -Id $p.Id -Force -ErrorAction SilentlyContinue }
    Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}

# Plots: the median repetition (by p50) of each scenario.
function MedianRun($key) { $r = @($runs[$key] | Sort-Object { $_.p50 }); return $r[[int][math]::Floor($r.Count / 2)] }
foreach ($mode in $modes) {
    $files = @($runs.Keys | Where-Object { $_.EndsWith(" $mode") } | ForEach-Object { (MedianRun $_).json })
    & dotnet $loadgen plot --out "$dir/joined-$($mode.Replace('=', '')).svg" --title "candidate-ranker, $Rows rows, MessagePack, closed loop $mode, loopback" @files | Out-Null
}
# Kept: the plotted runs' JSON; every run's line is in the report's raw lines.
$plotted = @($runs.Keys | ForEach-Object { [System.IO.Path]::GetFullPath((MedianRun $_).json) })
Get-ChildItem "$dir/*.json" | Where-Object { $plotted -notcontains $_.FullName } | Remove-Item

function Med([string] $Key, [string] $Field) { return Median ($runs[$Key] | ForEach-Object { $_[$Field] }) }
function Feat([string] $Key) {
    $f = @($runs[$Key] | Where-Object { $_.features } | ForEach-Object { $_.features })
    if ($f.Count -eq 0) { return '-' }
    return "$(Median ($f | ForEach-Object p50)) / $(Median ($f | ForEach-Object p99)) ($([math]::Round(100 * (Median ($f | ForEach-Object share))))%)"
}
$a = '(a) server, ready tensors'; $a2 = '(a′) server without near cache, ready tensors'; $b = '(b) server, ids, near-cache hit'; $c = '(c) server, ids, cache miss'; $d = '(d) peer, ids'; $e = '(e) peer, ready tensors'
$rtt = Median ($floors | ForEach-Object p50)
$rttPy = Median ($floors | ForEach-Object py50)
# Per mode, the medians over the repetitions: MGETs and store reads per joined request, store read mean µs.
function MissFigure([string] $Mode, [scriptblock] $Of) { return Median (@($mgets | Where-Object { $_.mode -eq $Mode }) | ForEach-Object $Of) }
$perRequest = @{}; $fetchPerRequest = @{}; $fetchMean = @{}
foreach ($mode in $modes) {
    $perRequest[$mode] = [math]::Round((MissFigure $mode { $_.mget / [math]::Max(1, $_.requests) }), 3)
    $fetchPerRequest[$mode] = [math]::Round((MissFigure $mode { $_.fetches / [math]::Max(1, $_.requests) }), 3)
    $fetchMean[$mode] = [math]::Round((MissFigure $mode { $_.fetchMean }), 1)
}
function Verdict([bool] $ok) { if ($ok) { 'met' } else { '**not met**' } }

$cpu = Get-CpuName
$torch = & $python -c 'import torch; print(torch.__version__)'
$lines = @(
    "# Feature-joined inference side by side: ids (near-cache hit, cache miss) against ready tensors and the Python peer, $date",
    '',
    "Command: ``dotnet pwsh build.ps1 perf -Models candidate-ranker`` (perf/joined.ps1 -Repetitions $Repetitions -Duration $Duration -Warmup $Warmup -Rows $Rows; $Repetitions interleaved repetitions, $Duration s measured after $Warmup s warm-up each; loopback, load generator on the same machine; commit $commit).",
    "Machine: $([Environment]::ProcessorCount) cores ($cpu), $([math]::Round((Get-Content /proc/meminfo | Select-Object -First 1).Split(':')[1].Trim().Split(' ')[0] / 1MB)) GiB, $(uname -r), .NET $([Environment]::Version), redis-server $((& redis-server --version).Split(' ')[2].Substring(2)) on loopback (no persistence), the peer's PyTorch $torch; load average before and after the run: $loadBefore; $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '). Medians over the runs (one per repetition; (a) and (b), (a′) and (c) two per repetition, in a b b a order, then b a a b); the JSON of the runs plotted (each scenario's median repetition; every run's line is under Raw lines), the requests and the plots are in ``$dir/``.",
    '',
    "models/candidate-ranker, $Rows rows a request (user $((Get-Content -Raw $ids | ConvertFrom-Json).request.inputs[0].data[0]), $Rows candidate items, every row PRESENT: ``ids-$Rows.json``), MessagePack, closed loop. Ready tensors: ``tensors-$Rows.json``, the dense and sparse inputs laid from the golden's pushed rows as the join lays them, sent to ``candidate-ranker-tensors``, the same model.pt with the config's features block removed. (b): the near cache on (64 MiB, rows refetched after max_staleness_ms 1000). (c): ``near_cache.capacity_bytes`` 0, every join one MGET to the redis-server; (a′): ready tensors on that same server, run in turn with (c). (d): perf/peer/server.py with perf/peer/join.py, FastAPI on uvicorn, one worker, redis-py $(& $python -c 'import redis; print(redis.__version__)') (sync client, one MGET per request), PyTorch with one intra-op thread, joining from the same redis-server.",
    '',
    'Checked before timing (perf/joined.py check):',
    '',
    '```'
) + $check + @(
    '```',
    '',
    '| scenario | req/s | p50 µs | p99 µs | p99.9 µs | Server-Timing features p50 / p99 µs (share of answers with it) | errors (last run) |',
    '|---|---|---|---|---|---|---|'
)
foreach ($k in $runs.Keys) {
    $lines += "| $k | $(Med $k 'rps') | $(Med $k 'p50') | $(Med $k 'p99') | $(Med $k 'p999') | $(Feat $k) | $(if ($runs[$k][-1].errors) { $runs[$k][-1].errors } else { 0 }) |"
}
$lines += ''
$lines += "The server leaves ``features`` out of Server-Timing where the join took under 1 µs (the share column counts the answers that carried it); its value is in whole µs."
$lines += ''
$lines += "Redis round trip, MGET of the request's $($keys.Count) keys, one client, no pipelining, medians of $($floors.Count) (one in each repetition, with the cache-miss server up and idle, just before its runs): redis-benchmark p50 $rtt µs ($(Median ($floors | ForEach-Object rps)) req/s); redis-py in a loop p50 $rttPy µs, p99 $(Median ($floors | ForEach-Object py99)) µs."
$lines += ''
$lines += "The cache-miss server (c), per joined request (warm-up included; medians over the repetitions), c=1 / c=16: $($perRequest['c=1']) / $($perRequest['c=16']) MGETs at redis-server (its commandstats), $($fetchPerRequest['c=1']) / $($fetchPerRequest['c=16']) store reads by the server, each $($fetchMean['c=1']) / $($fetchMean['c=16']) µs on average (its ``store.fetch.duration``: StackExchange.Redis from the call to the reply)."
$lines += ''
$lines += '| target | c=1 | c=16 | target | |'
$lines += '|---|---|---|---|---|'
$hit1 = (Med "$b c=1" 'p50') - (Med "$a c=1" 'p50'); $hit16 = (Med "$b c=16" 'p50') - (Med "$a c=16" 'p50')
function PairedHit([string] $Mode) { return Median (@($pairs | Where-Object { $_.mode -eq $Mode }) | ForEach-Object { $_.b.p50 - $_.a.p50 }) }
$pairHit1 = PairedHit 'c=1'; $pairHit16 = PairedHit 'c=16'
$lines += "| (b) − (a) p50 µs: a cache-hit join, the two alternating in one run (median of $Repetitions) | $pairHit1 | $pairHit16 | ≤ 5 | c=1 $(Verdict ($pairHit1 -le 5)), c=16 $(Verdict ($pairHit16 -le 5)) |"
$lines += "| (b) − (a) p50 µs, separate runs (medians above) | $hit1 | $hit16 | | the host's drift between runs included |"
$miss1 = (Med "$c c=1" 'p50') - (Med "$a2 c=1" 'p50'); $miss16 = (Med "$c c=16" 'p50') - (Med "$a2 c=16" 'p50')
$oneMget = $perRequest['c=1'] -le 1.01 -and $perRequest['c=16'] -le 1.01
$lines += "| MGETs per joined request, cache miss | $($perRequest['c=1']) | $($perRequest['c=16']) | 1 | $(Verdict $oneMget) |"
$lines += "| (c) − (a′) p50 µs: a cache-miss join | $miss1 | $miss16 | one round trip, no more: redis-benchmark's MGET p50 $rtt µs (+ the 5 µs a join may add) | c=1 $(Verdict ($miss1 -le $rtt + 5)) ($([math]::Round($miss1 / $rtt, 2))× the round trip) |"
if (-not $NoPeer) {
    $rb = [math]::Round((Med "$b c=16" 'rps') / (Med "$d c=16" 'rps'), 2); $rc = [math]::Round((Med "$c c=16" 'rps') / (Med "$d c=16" 'rps'), 2)
    $lines += "| (b) / (d) req/s: near-cache hit against the peer | $([math]::Round((Med "$b c=1" 'rps') / (Med "$d c=1" 'rps'), 2)) | $rb | ≥ 5 at c=16 | $(Verdict ($rb -ge 5)) |"
    $lines += "| (c) / (d) req/s: cache miss against the peer | $([math]::Round((Med "$c c=1" 'rps') / (Med "$d c=1" 'rps'), 2)) | $rc | ≥ 5 at c=16 | $(Verdict ($rc -ge 5)) |"
    $lines += "| (d) − (e) p50 µs: the peer's join | $((Med "$d c=1" 'p50') - (Med "$e c=1" 'p50')) | $((Med "$d c=16" 'p50') - (Med "$e c=16" 'p50')) | | |"
    $lines += "| (a) / (e) req/s: ready tensors, server against the peer | $([math]::Round((Med "$a c=1" 'rps') / (Med "$e c=1" 'rps'), 2)) | $([math]::Round((Med "$a c=16" 'rps') / (Med "$e c=16" 'rps'), 2)) | | |"
}
# Each repetition apart: the mean p50 of its runs of each scenario, the differences, and the floor.
function RepP50([string] $Key, [int] $Rep) { $x = @($runs[$Key] | Where-Object { $_.rep -eq $Rep } | ForEach-Object { $_.p50 }); return ($x | Measure-Object -Average).Average }
$lines += ''
$lines += 'Each repetition apart (p50 µs; (a), (a′), (b) and (c): the mean of the repetition''s two runs):'
$lines += ''
$lines += '| repetition | (b) − (a) c=1 | (b) − (a) c=16 | (b) − (a) alternating c=1 | (b) − (a) alternating c=16 | (c) − (a′) c=1 | (c) − (a′) c=16 | redis-benchmark MGET p50 | redis-py MGET p50 |'
$lines += '|---|---|---|---|---|---|---|---|---|'
for ($i = 1; $i -le $Repetitions; $i++) {
    $f = $floors | Where-Object { $_.rep -eq $i }
    $cells = foreach ($pair in @(@($b, $a, 'c=1'), @($b, $a, 'c=16'))) { [math]::Round((RepP50 "$($pair[0]) $($pair[2])" $i) - (RepP50 "$($pair[1]) $($pair[2])" $i), 1) }
    $cells += foreach ($mode in $modes) { $p = $pairs | Where-Object { $_.rep -eq $i -and $_.mode -eq $mode }; $p.b.p50 - $p.a.p50 }
    $cells += foreach ($pair in @(@($c, $a2, 'c=1'), @($c, $a2, 'c=16'))) { [math]::Round((RepP50 "$($pair[0]) $($pair[2])" $i) - (RepP50 "$($pair[1]) $($pair[2])" $i), 1) }
    $lines += "| $i | $($cells -join ' | ') | $($f.p50) | $($f.py50) |"
}
$lines += ''
$lines += "![c=1]($name/joined-c1.svg)"
$lines += "![c=16]($name/joined-c16.svg)"
$lines += ''
$lines += 'Raw lines:'
$lines += '```'
foreach ($k in $runs.Keys) { foreach ($r in $runs[$k]) { $lines += "$($r.line)" } }
foreach ($p in $pairs) { foreach ($l in $p.lines) { $lines += "alternating rep $($p.rep)`t$l" } }
foreach ($f in $floors) { $lines += "redis-benchmark`t$($f.line)"; $lines += "redis-py`t$($f.pyline)" }
foreach ($g in $mgets) { $lines += "cache-miss server`t$($g.requests) joined requests, $($g.fetches) store reads (mean $([math]::Round($g.fetchMean, 1)) µs), $($g.mget) MGETs at redis-server" }
$lines += '```'
Set-Content -Path "perf/results/$name.md" -Value $lines
Write-Host "wrote perf/results/$name.md"
