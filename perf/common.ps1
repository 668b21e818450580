# Shared by the perf scripts (side-by-side.ps1, reload.ps1, overload.ps1): dot-source it after
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
