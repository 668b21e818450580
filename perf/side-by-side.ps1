#!/usr/bin/env pwsh
# Side by side on loopback: the transport floor, this server, and the Python peer (FastAPI + PyTorch,
# perf/peer/server.py), one after another in interleaved repetitions, one load generator. Writes
# perf/results/side-by-side-<date>.md with medians and ratios. The peer's Debian packages are
# installed with apt when missing (root); -NoPeer leaves it out.
#   dotnet pwsh build.ps1 perf [-Repetitions 3] [-Duration 5]
param(
    [int] $Repetitions = 3,
    [double] $Duration = 5,
    [double] $Warmup = 2,
    [int[]] $Concurrency = @(1, 16),
    [switch] $NoPeer
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
$loadgen = 'perf/LoadGen/bin/Release/net10.0/loadgen.dll'
$floor = 'perf/Floor/bin/Release/net10.0/floor.dll'
$server = 'host/bin/Release/net10.0/LowLatency.Host.dll'

function Initialize-Peer {
    & /usr/bin/python3 -c 'import fastapi, uvicorn, torch, msgpack, numpy' 2>$null
    if ($LASTEXITCODE -ne 0) {
        Write-Host 'installing the peer''s Debian packages (python3-fastapi python3-uvicorn python3-torch python3-msgpack python3-numpy)'
        & apt-get update -q | Out-Null
        & apt-get install -y -q python3-fastapi python3-uvicorn python3-torch python3-msgpack python3-numpy | Out-Null
    }
}

function Start-Target([string] $Name) {
    if ($Name -eq 'peer') {
        $p = Start-Process /usr/bin/python3 -ArgumentList @('perf/peer/server.py', '--port', '8003', '--models', 'models') -PassThru -RedirectStandardOutput /dev/null
        $url = 'http://127.0.0.1:8003/v2/models/ctr-ranker/infer'
    } elseif ($Name -eq 'floor') {
        $p = Start-Process dotnet -ArgumentList @($floor, '--urls', 'http://127.0.0.1:8001', '--response-bytes', '96') -PassThru -RedirectStandardOutput /dev/null
        $url = 'http://127.0.0.1:8001/v2/models/ctr-ranker/infer'
    } else {
        $p = Start-Process dotnet -ArgumentList @($server, '--urls', 'http://127.0.0.1:8002', '--model-repository', 'models', '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
        $url = 'http://127.0.0.1:8002/v2/models/ctr-ranker/infer'
    }
    $ready = if ($Name -eq 'floor') { $null } else { 'http://127.0.0.1:8002/v2/health/ready' }
    for ($i = 0; $i -lt 200; $i++) {
        Start-Sleep -Milliseconds 100
        try {
            if ($ready) { $r = Invoke-WebRequest -Uri $ready -SkipHttpErrorCheck; if ($r.StatusCode -eq 200) { break } }
            elseif ($Name -eq 'peer') { $r = Invoke-WebRequest -Uri $url -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck; break }
            else { $r = Invoke-WebRequest -Uri $url -Method Post -Body 'x' -SkipHttpErrorCheck; break }
        } catch { }
    }
    return @{ Process = $p; Url = $url }
}

function Parse([string] $line) {
    $m = [regex]::Match($line, '(?<rps>\d+) req/s\tp50 (?<p50>\d+) us\tp90 (?<p90>\d+) us\tp99 (?<p99>\d+) us')
    return @{ rps = [double]$m.Groups['rps'].Value; p50 = [double]$m.Groups['p50'].Value; p99 = [double]$m.Groups['p99'].Value; line = $line }
}

function Median([double[]] $xs) { $s = $xs | Sort-Object; return $s[[int][math]::Floor($s.Count / 2)] }

$targets = @('floor', 'server')
if (-not $NoPeer) {
    Initialize-Peer
    $targets += 'peer'
}

$runs = @{}
for ($rep = 1; $rep -le $Repetitions; $rep++) {
    foreach ($target in $targets) {
        $t = Start-Target $target
        try {
            foreach ($c in $Concurrency) {
                $line = & dotnet $loadgen --label $target --url $t.Url --golden models/ctr-ranker/golden/batch1.json --concurrency $c --duration $Duration --warmup $Warmup
                Write-Host "rep $rep $line"
                $key = "$target c=$c"
                if (-not $runs.ContainsKey($key)) { $runs[$key] = @() }
                $runs[$key] += , (Parse $line)
            }
        } finally {
            Stop-Process -Id $t.Process.Id -Force
            Start-Sleep -Milliseconds 500
        }
    }
}

$date = Get-Date -Format 'yyyy-MM-dd'
$out = "perf/results/side-by-side-$date.md"
$cpu = (Get-Content /proc/cpuinfo | Select-String 'model name' | Select-Object -First 1).ToString().Split(':')[1].Trim()
$lines = @(
    "# Side by side: transport floor, LowLatency and the Python peer (ctr-ranker, MessagePack), $date",
    '',
    "Command: ``dotnet pwsh build.ps1 perf`` ($Repetitions interleaved repetitions, $Duration s measured after $Warmup s warm-up each; closed loop, loopback, load generator on the same machine).",
    "Machine: $([Environment]::ProcessorCount) cores ($cpu), $([math]::Round((Get-Content /proc/meminfo | Select-Object -First 1).Split(':')[1].Trim().Split(' ')[0] / 1MB)) GiB, $(uname -r), .NET $([Environment]::Version). Medians of the repetitions.",
    '',
    '| scenario | req/s | p50 µs | p99 µs |',
    '|---|---|---|---|'
)
foreach ($c in $Concurrency) {
    foreach ($target in $targets) {
        $r = $runs["$target c=$c"]
        $lines += "| $target c=$c | $(Median ($r | ForEach-Object rps)) | $(Median ($r | ForEach-Object p50)) | $(Median ($r | ForEach-Object p99)) |"
    }
}
$lines += ''
$lines += '| ratio (server / floor) | req/s | p50 | p99 |'
$lines += '|---|---|---|---|'
foreach ($c in $Concurrency) {
    $f = $runs["floor c=$c"]; $s = $runs["server c=$c"]
    $ratio = { param($k) [math]::Round((Median ($s | ForEach-Object $k)) / (Median ($f | ForEach-Object $k)), 2) }
    $lines += "| c=$c | $(& $ratio 'rps') | $(& $ratio 'p50') | $(& $ratio 'p99') |"
}
if ($targets -contains 'peer') {
    $lines += ''
    $lines += '| server vs. peer | throughput (server / peer) | p50 (peer / server) | p99 (peer / server) |'
    $lines += '|---|---|---|---|'
    foreach ($c in $Concurrency) {
        $p = $runs["peer c=$c"]; $s = $runs["server c=$c"]
        $lines += "| c=$c | $([math]::Round((Median ($s | ForEach-Object rps)) / (Median ($p | ForEach-Object rps)), 2)) | $([math]::Round((Median ($p | ForEach-Object p50)) / (Median ($s | ForEach-Object p50)), 2)) | $([math]::Round((Median ($p | ForEach-Object p99)) / (Median ($s | ForEach-Object p99)), 2)) |"
    }
}

$lines += ''
$lines += 'Raw lines:'
$lines += '```'
foreach ($k in $runs.Keys | Sort-Object) { foreach ($r in $runs[$k]) { $lines += $r.line } }
$lines += '```'
Set-Content -Path $out -Value $lines
Write-Host "wrote $out"
