#!/usr/bin/env pwsh
# Side by side on loopback: the transport floor, this server, and the Python peer (FastAPI + PyTorch,
# perf/peer/server.py), one after another in interleaved repetitions, one load generator. Writes
# perf/results/side-by-side-<date>.md (medians, ratios, targets), every run's JSON and
# latency-by-percentile plots in perf/results/side-by-side-<date>/. The peer's Debian packages are
# installed with apt when missing (root); -NoPeer leaves it out. -Quick runs one repetition of the
# ctr-ranker scenarios only. -Baseline <another build's LowLatency.Host.dll> adds that build as a
# target of its own ("baseline"), run next to this one in every repetition (after it in odd ones,
# before it in even ones) with the same scenarios, and a table of this build against it: before and
# after a change, in one run.
#   dotnet pwsh build.ps1 perf [-Repetitions 3] [-Duration 5] [-Warmup 2] [-NoPeer] [-NoWrk] [-Quick]
#                              [-Models ctr-ranker,text-encoder,image-classifier,candidate-ranker] [-Baseline <dll>] [-Out <name>]
# -Models limits the run to those models (the floor, open-loop, batching-off and wrk scenarios come
# with ctr-ranker and image-classifier as above); -Out names the result files instead of the date (a later run on the same day without -Out gets -2, -3, …: perf/common.ps1).
# candidate-ranker runs first, on its own: feature-joined inference (ids, near-cache hit and miss,
# against ready tensors and the peer's join over Redis) is perf/joined.ps1, with its own result file
# (perf/results/joined-<date>-<commit>.md; "<Out>-joined" where -Out names a run of other models too);
# -Baseline does not apply to it. -Models candidate-ranker runs only those scenarios.
# Scenarios, per repetition and target:
#   ctr-ranker MessagePack closed loop at concurrency 1, 16, 64; ctr-ranker JSON at concurrency 1;
#   text-encoder and image-classifier MessagePack at concurrency 1, 16 and 64 (server and peer);
#   this build only: ctr-ranker and image-classifier over gRPC (one connection, and 8 at c=64) and
#   over MessagePack HTTP, both through LowLatency.Client, at the ctr-ranker concurrencies;
#   open loop (constant rate) at 50 % and 90 % of the target's own maximum measured just before

#   (server and peer); image-classifier at concurrency 16 with dynamic batching off (server).
# Then, once: wrk (Debian's, installed when missing) against the server at concurrency 1 and 16,
# to cross-check the load generator.
param(
    [int] $Repetitions = 3,
    [double] $Duration = 5,
    [double] $Warmup = 2,
    [switch] $NoPeer,
    [switch] $NoWrk,
    [switch] $Quick,
    [string[]] $Models = @('ctr-ranker', 'text-encoder', 'image-classifier', 'candidate-ranker'),
    [string] $Baseline = '',
    [string] $Out = ''
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
# pwsh -File passes "a,b" as one string: split it.
$Models = @($Models | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
. ./perf/common.ps1
if ($Models -contains 'candidate-ranker') {
    $others = @($Models | Where-Object { $_ -ne 'candidate-ranker' })
    $joinedOut = if ($Out -and $others.Count -gt 0) { "$Out-joined" } else { $Out }
    & ./perf/joined.ps1 -Repetitions $(if ($Quick) { 1 } else { $Repetitions }) -Duration $Duration -Warmup $Warmup -NoPeer:$NoPeer -Out $joinedOut
    $Models = $others
    if ($Models.Count -eq 0) { return }
}
$floor = 'perf/Floor/bin/Release/net10.0/floor.dll'
$name = New-ResultFolder $Out 'side-by-side'
$dir = "perf/results/$name"
if ($Quick) { $Repetitions = 1 }
if ($Baseline -and -not (Test-Path $Baseline)) { throw "-Baseline: no file '$Baseline' (another build's LowLatency.Host.dll)" }

# The server with dynamic batching off for one model: a copy of the repository whose config lacks it.
function New-UnbatchedRepository([string] $Model) {
    $root = Join-Path ([System.IO.Path]::GetTempPath()) "ll-unbatched-$PID"
    if (Test-Path $root) { Remove-Item -Recurse -Force $root }
    New-Item -ItemType Directory -Force (Join-Path $root "$Model/1") | Out-Null
    Copy-Item "models/$Model/1/model.pt" (Join-Path $root "$Model/1/model.pt")
    $config = Get-Content -Raw "models/$Model/config.json" | ConvertFrom-Json -AsHashtable
    $config.Remove('dynamic_batching')
    $config | ConvertTo-Json -Depth 10 | Set-Content (Join-Path $root "$Model/config.json")
    return $root
}

function Start-Target([string] $Name, [string] $Repository = 'models') {
    if ($Name -eq 'peer') {
        $p = Start-Process /usr/bin/python3 -ArgumentList @('perf/peer/server.py', '--port', '8003', '--models', 'models') -PassThru -RedirectStandardOutput /dev/null
        $base = 'http://127.0.0.1:8003'
    } elseif ($Name -eq 'floor') {
        $p = Start-Process dotnet -ArgumentList @($floor, '--urls', 'http://127.0.0.1:8001', '--response-bytes', '96') -PassThru -RedirectStandardOutput /dev/null
        $base = 'http://127.0.0.1:8001'
    } else {
        $dll = if ($Name -eq 'baseline') { $Baseline } else { $server }
        # This build serves gRPC too (8004: the floor has 8001); a baseline is measured over HTTP only.
        $grpcUrls = if ($Name -eq 'server') { 'http://127.0.0.1:8004' } else { '' }
        $p = Start-Process dotnet -ArgumentList @($dll, '--urls', 'http://127.0.0.1:8002', "--LowLatency:Grpc:Urls=$grpcUrls", '--model-repository', $Repository, '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
        $base = 'http://127.0.0.1:8002'
    }
    for ($i = 0; $i -lt 300; $i++) {
        Start-Sleep -Milliseconds 100
        try {
            if ($Name -ne 'floor') { $r = Invoke-WebRequest -Uri "$base/v2/health/ready" -SkipHttpErrorCheck; if ($r.StatusCode -eq 200) { break } }
            else { $r = Invoke-WebRequest -Uri "$base/v2/models/ctr-ranker/infer" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck; break }
        } catch { }
    }
    return @{ Process = $p; Base = $base; Grpc = 'http://127.0.0.1:8004' }
}

$runs = [ordered]@{}
# -Transport grpc: $Base is the gRPC listener's address; -Extra: more of the load generator's options.
function Invoke-Run([string] $Target, [string] $Base, [string] $Model, [string] $Encoding, [string] $Mode, [int] $Rep, [string] $Key, [string] $Transport = 'http', [string[]] $Extra = @()) {
    $golden = "models/$Model/golden/batch1.json"
    $json = "$dir/$($Key -replace '[^A-Za-z0-9=.-]+', '_')-rep$Rep.json"
    $url = if ($Transport -eq 'grpc') { $Base } else { "$Base/v2/models/$Model/infer" }
    $la = @('--label', $Target, '--url', $url, '--golden', $golden, '--encoding', $Encoding, '--duration', $Duration, '--warmup', $Warmup, '--json', $json, '--transport', $Transport) + $Extra
    if ($Mode.StartsWith('rate=')) { $la += @('--rate', $Mode.Substring(5)) } else { $la += @('--concurrency', $Mode.Substring(2)) }
    $line = & dotnet $loadgen @la 2>$null
    Write-Host "rep $Rep $Key`t$line"
    if (-not $runs.Contains($Key)) { $runs[$Key] = @() }
    $r = Parse $line
    $r.json = $json
    $runs[$Key] += , $r
    return $r
}

$targets = @(if ($Models -contains 'ctr-ranker') { 'floor', 'server' } else { 'server' })
if ($Baseline) { $targets += 'baseline' }
if (-not $NoPeer) { Initialize-Peer; $targets += 'peer' }
$ctrModes = if ($Quick) { @('c=1', 'c=16') } else { @('c=1', 'c=16', 'c=64') }

for ($rep = 1; $rep -le $Repetitions; $rep++) {
    # This build and the baseline swap places every other repetition, so neither always runs on the
    # machine the other just warmed (or heated).
    $order = $targets
    if ($Baseline -and $rep % 2 -eq 0) { $order = @($targets | ForEach-Object { if ($_ -eq 'server') { 'baseline' } elseif ($_ -eq 'baseline') { 'server' } else { $_ } }) }
    foreach ($target in $order) {
        $t = Start-Target $target
        try {
            $max = 0
            foreach ($mode in $(if ($Models -contains 'ctr-ranker') { $ctrModes } else { @() })) {
                $r = Invoke-Run $target $t.Base 'ctr-ranker' 'msgpack' $mode $rep "ctr-ranker msgpack $target $mode"
                $max = [math]::Max($max, $r.rps)
            }
            if ($target -eq 'server') {
                # gRPC against MessagePack over HTTP, both through LowLatency.Client (which encodes and
                # decodes every call), beside the prebuilt-body HTTP runs above.
                foreach ($model in @(@('ctr-ranker', 'image-classifier') | Where-Object { $Models -contains $_ })) {
                    foreach ($mode in $ctrModes) {
                        Invoke-Run $target $t.Grpc $model 'msgpack' $mode $rep "$model grpc server $mode" 'grpc' | Out-Null
                        Invoke-Run $target $t.Base $model 'msgpack' $mode $rep "$model msgpack client server $mode" 'http' @('--client') | Out-Null
                    }
                    if ($ctrModes -contains 'c=64') {
                        Invoke-Run $target $t.Grpc $model 'msgpack' 'c=64' $rep "$model grpc 8 channels server c=64" 'grpc' @('--grpc-channels', '8') | Out-Null
                    }
                }
            }
            if ($Quick) { continue }
            if ($Models -contains 'ctr-ranker') {
                Invoke-Run $target $t.Base 'ctr-ranker' 'json' 'c=1' $rep "ctr-ranker json $target c=1" | Out-Null
            }
            if ($target -eq 'floor') { continue }
            foreach ($model in @(@('text-encoder', 'image-classifier') | Where-Object { $Models -contains $_ })) {
                foreach ($mode in @('c=1', 'c=16', 'c=64')) {
                    Invoke-Run $target $t.Base $model 'msgpack' $mode $rep "$model msgpack $target $mode" | Out-Null
                }
            }
            foreach ($share in $(if ($max -gt 0) { @(50, 90) } else { @() })) {
                $rate = [math]::Round($max * $share / 100)
                Invoke-Run $target $t.Base 'ctr-ranker' 'msgpack' "rate=$rate" $rep "ctr-ranker msgpack $target open loop $share%" | Out-Null
            }
        } finally {
            Stop-Process -Id $t.Process.Id -Force
            Start-Sleep -Milliseconds 500
        }
    }
    if (-not $Quick -and $Models -contains 'image-classifier') {
        $repo = New-UnbatchedRepository 'image-classifier'
        $t = Start-Target 'server' $repo
        try {
            Invoke-Run 'server' $t.Base 'image-classifier' 'msgpack' 'c=16' $rep 'image-classifier msgpack server c=16 batching off' | Out-Null
        } finally {
            Stop-Process -Id $t.Process.Id -Force
            Start-Sleep -Milliseconds 500
            Remove-Item -Recurse -Force $repo
        }
    }
}

# wrk cross-check against the server, ctr-ranker MessagePack, once, beside the load generator.
$wrk = @()
if (-not $NoWrk -and $Models -contains 'ctr-ranker') {
    if (-not (Get-Command wrk -ErrorAction SilentlyContinue)) { & apt-get install -y -q wrk | Out-Null }
    $body = "$dir/ctr-ranker-batch1.msgpack"
    & dotnet $loadgen body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out $body
    $t = Start-Target 'server'
    try {
        foreach ($c in @(1, 16)) {
            $env:WRK_BODY = $body; $env:WRK_TYPE = 'application/msgpack'
            & wrk -t1 "-c$c" "-d$([int]$Warmup)s" -s perf/wrk/post.lua "$($t.Base)/v2/models/ctr-ranker/infer" | Out-Null
            $w = (& wrk -t1 "-c$c" "-d$([int]$Duration)s" -s perf/wrk/post.lua "$($t.Base)/v2/models/ctr-ranker/infer") | Select-String '^wrk\t' | Select-Object -First 1
            $l = Invoke-Run 'server' $t.Base 'ctr-ranker' 'msgpack' "c=$c" 0 "wrk check loadgen c=$c"
            $m = [regex]::Match($w.ToString(), '(?<rps>\d+) req/s\tp50 (?<p50>\d+) us\tp90 \d+ us\tp99 (?<p99>\d+) us\terrors (?<errors>\d+)')
            $wrk += @{ c = $c; rps = [double]$m.Groups['rps'].Value; p50 = [double]$m.Groups['p50'].Value; p99 = [double]$m.Groups['p99'].Value; errors = $m.Groups['errors'].Value; loadgen = $l; line = $w.ToString() }
            Write-Host "wrk c=$c`t$($w.ToString())"
        }
    } finally {
        Stop-Process -Id $t.Process.Id -Force
    }
}

# Plots: the median repetition (by p50) of each target, ctr-ranker at c=1 and c=16.
function MedianRun($key) { $r = @($runs[$key] | Sort-Object { $_.p50 }); return $r[[int][math]::Floor($r.Count / 2)] }
foreach ($mode in $(if ($Models -contains 'ctr-ranker') { @('c=1', 'c=16') } else { @() })) {
    $files = @($targets | ForEach-Object { (MedianRun "ctr-ranker msgpack $_ $mode").json })
    & dotnet $loadgen plot --out "$dir/ctr-ranker-$($mode.Replace('=', '')).svg" --title "ctr-ranker, MessagePack, closed loop $mode, loopback" @files | Out-Null
}

$cpu = Get-CpuName
$lines = @(
    "# Side by side: transport floor, LowLatency and the Python peer, $date",
    '',
    "Command: ``dotnet pwsh build.ps1 perf`` ($Repetitions interleaved repetitions, $Duration s measured after $Warmup s warm-up each; loopback, load generator on the same machine; commit $(git rev-parse --short HEAD)).",
    "Machine: $([Environment]::ProcessorCount) cores ($cpu), $([math]::Round((Get-Content /proc/meminfo | Select-Object -First 1).Split(':')[1].Trim().Split(' ')[0] / 1MB)) GiB, $(uname -r), .NET $([Environment]::Version); load average before the run: $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '). Medians of the repetitions; every run's JSON and the plots are in ``$dir/``.",
    '',
    '| scenario | req/s | p50 µs | p99 µs | p99.9 µs | errors (last run) |',
    '|---|---|---|---|---|---|'
)
foreach ($k in $runs.Keys) {
    $r = $runs[$k]
    $lines += "| $k | $(Median ($r | ForEach-Object rps)) | $(Median ($r | ForEach-Object p50)) | $(Median ($r | ForEach-Object p99)) | $(Median ($r | ForEach-Object p999)) | $(if ($r[-1].errors) { $r[-1].errors } else { 0 }) |"
}
function Ratio($a, $b, $k) { if (-not $runs.Contains($a) -or -not $runs.Contains($b)) { return '-' }; return [math]::Round((Median ($runs[$a] | ForEach-Object $k)) / (Median ($runs[$b] | ForEach-Object $k)), 2) }
if ($Models -contains 'ctr-ranker') {
    $lines += ''
    $lines += '| ctr-ranker, MessagePack | server / floor req/s | server − floor p50 µs | server / peer req/s | peer / server p50 |'
    $lines += '|---|---|---|---|---|'
}
foreach ($mode in $(if ($Models -contains 'ctr-ranker') { $ctrModes } else { @() })) {
    $s = "ctr-ranker msgpack server $mode"; $f = "ctr-ranker msgpack floor $mode"; $p = "ctr-ranker msgpack peer $mode"
    $diff = (Median ($runs[$s] | ForEach-Object p50)) - (Median ($runs[$f] | ForEach-Object p50))
    $lines += "| $mode | $(Ratio $s $f 'rps') | $diff | $(Ratio $s $p 'rps') | $(Ratio $p $s 'p50') |"
}
if ($Baseline) {
    $lines += ''
    $lines += "This build against the baseline (``$Baseline``, commit $(& git -C (Split-Path $Baseline) rev-parse --short HEAD 2>$null)), run next to it in every repetition (after it in odd ones, before it in even ones): medians, and each ratio's spread over the repetitions (min … max of server / baseline per repetition)."
    $lines += ''
    $lines += '| scenario | server / baseline req/s | spread | server / baseline p50 | spread | server / baseline p99 | spread |'
    $lines += '|---|---|---|---|---|---|---|'
    foreach ($k in @($runs.Keys | Where-Object { $_ -match ' server ' -and $runs.Contains(($_ -replace ' server ', ' baseline ')) })) {
        $b = $k -replace ' server ', ' baseline '
        $cells = foreach ($m in 'rps', 'p50', 'p99') {
            $per = for ($i = 0; $i -lt [math]::Min($runs[$k].Count, $runs[$b].Count); $i++) { $runs[$k][$i].$m / $runs[$b][$i].$m }
            $sorted = @($per | Sort-Object)
            "$(Ratio $k $b $m) | $([math]::Round($sorted[0], 2)) … $([math]::Round($sorted[-1], 2))"
        }
        $lines += "| $($k -replace ' server', '') | $($cells -join ' | ') |"
    }
}
$grpcRows = foreach ($model in @('ctr-ranker', 'image-classifier')) {
    foreach ($mode in $ctrModes + @('c=64 8 channels')) {
        $g = if ($mode -eq 'c=64 8 channels') { "$model grpc 8 channels server c=64" } else { "$model grpc server $mode" }
        $m = "$model msgpack client server $($mode.Split(' ')[0])"
        if ($runs.Contains($g) -and $runs.Contains($m)) { "| $model | $mode | $(Ratio $g $m 'rps') | $(Ratio $g $m 'p50') | $(Ratio $g $m 'p99') |" }
    }
}
if ($grpcRows) {
    $lines += ''
    $lines += 'gRPC against MessagePack over HTTP, both through LowLatency.Client, one connection each unless named (targets: ctr-ranker c=1 p50 ratio ≤ 1.15, c=64 req/s ratio ≥ 1; image-classifier req/s ratio ≥ 0.9):'
    $lines += ''
    $lines += '| model | clients | gRPC / HTTP req/s | gRPC / HTTP p50 | gRPC / HTTP p99 |'
    $lines += '|---|---|---|---|---|'
    $lines += $grpcRows
}
if ($runs.Contains('image-classifier msgpack server c=16 batching off')) {
    $lines += ''
    $lines += "image-classifier at c=16, dynamic batching on vs. off: $(Ratio 'image-classifier msgpack server c=16' 'image-classifier msgpack server c=16 batching off' 'rps')× the throughput."
}
if ($wrk.Count -gt 0) {
    $lines += ''
    $lines += '| wrk cross-check (server, ctr-ranker) | wrk req/s | loadgen req/s | wrk p50 µs | loadgen p50 µs | p50 difference |'
    $lines += '|---|---|---|---|---|---|'
    foreach ($w in $wrk) {
        $lines += "| c=$($w.c) | $($w.rps) | $($w.loadgen.rps) | $($w.p50) | $($w.loadgen.p50) | $([math]::Round(100 * ($w.loadgen.p50 - $w.p50) / $w.p50))% |"
    }
}
$lines += ''
if ($Models -contains 'ctr-ranker') {
    $lines += "![ctr-ranker c=1]($name/ctr-ranker-c1.svg)"
    $lines += "![ctr-ranker c=16]($name/ctr-ranker-c16.svg)"
}
$lines += ''
$lines += 'Raw lines:'
$lines += '```'
foreach ($k in $runs.Keys) { foreach ($r in $runs[$k]) { $lines += "$k`t$($r.line)" } }
foreach ($w in $wrk) { $lines += "wrk c=$($w.c)`t$($w.line)" }
$lines += '```'
Set-Content -Path "perf/results/$name.md" -Value $lines
Write-Host "wrote perf/results/$name.md"
