# Shared by the perf scripts (side-by-side.ps1, joined.ps1, reload.ps1, overload.ps1): dot-source it after
# Set-Location to the repository root.

$loadgen = 'perf/LoadGen/bin/Release/net10.0/loadgen.dll'
$server = 'host/bin/Release/net10.0/LowLatency.Host.dll'
$date = Get-Date -Format 'yyyy-MM-dd'
$base = 'http://127.0.0.1:8002'

# The result folder perf/results/<name> (created) for a run named -Out, or <prefix>-<date>; a later
# run on the same day without -Out gets <prefix>-<date>-2, -3, …: committed results are not overwritten.
function New-ResultFolder([string] $Out, [string] $Prefix) {
    $name = if ($Out) { $Out } else { "$Prefix-$date" }
    for ($n = 2; -not $Out -and ((Test-Path "perf/results/$name.md") -or (Test-Path "perf/results/$name")); $n++) {
        $name = "$Prefix-$date-$n"
    }

    New-Item -ItemType Directory -Force "perf/results/$name" | Out-Null
    return $name
}

# The CPU's name with its family and model from /proc/cpuinfo: "AMD EPYC" alone names several
# generations, and this project's VM has landed on more than one (family 26, Zen 5, on 2026-12-02).
function Get-CpuName {
    $info = Get-Content /proc/cpuinfo -TotalCount 30
    $field = { param($key) (($info | Select-String "^$key\s*:" | Select-Object -First 1).ToString().Split(':', 2)[1].Trim()) }
    return "$(& $field 'model name'), family $(& $field 'cpu family') model $(& $field 'model')"
}

# The Release server on $base with models/, once it answers ready (up to a minute).
function Start-Server {
    $p = Start-Process dotnet -ArgumentList @($server, '--urls', $base, '--LowLatency:Grpc:Urls=', '--model-repository', 'models', '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
    for ($i = 0; $i -lt 600; $i++) {
        Start-Sleep -Milliseconds 100
        try { if ((Invoke-WebRequest -Uri "$base/v2/health/ready" -SkipHttpErrorCheck).StatusCode -eq 200) { return $p } } catch { }
    }
    Stop-Process -Id $p.Id -Force
    throw "the server did not become ready on $base"
}

# The Python peer's Debian packages (perf/peer/server.py; python3-redis for its feature join),
# installed with apt when missing (root).
function Initialize-Peer {
    & /usr/bin/python3 -c 'import fastapi, uvicorn, torch, msgpack, numpy, redis' 2>$null
    if ($LASTEXITCODE -ne 0) {
        Write-Host 'installing the peer''s Debian packages (python3-fastapi python3-uvicorn python3-torch python3-msgpack python3-numpy python3-redis)'
        & apt-get update -q | Out-Null
        & apt-get install -y -q python3-fastapi python3-uvicorn python3-torch python3-msgpack python3-numpy python3-redis | Out-Null
    }
}

# The load generator's stdout line: req/s, p50, p99, p99.9 (µs) and the errors.
function Parse([string] $line) {
    $m = [regex]::Match($line, '(?<rps>\d+) req/s\tp50 (?<p50>\d+) us\tp90 (?<p90>\d+) us\tp99 (?<p99>\d+) us\tp99.9 (?<p999>\d+) us\tmax \d+ us\terrors \[(?<errors>[^\]]*)\]')
    if (-not $m.Success) { throw "cannot parse: $line" }
    return @{ rps = [double]$m.Groups['rps'].Value; p50 = [double]$m.Groups['p50'].Value; p99 = [double]$m.Groups['p99'].Value; p999 = [double]$m.Groups['p999'].Value; errors = $m.Groups['errors'].Value; line = $line }
}

function Median([double[]] $xs) { $s = $xs | Sort-Object; return $s[[int][math]::Floor($s.Count / 2)] }
