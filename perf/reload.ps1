#!/usr/bin/env pwsh
# Hot reload under steady load: the ctr-ranker at a constant 1,000 requests/s (open loop, latency
# from each request's intended start), once without reloads and once with a reload every
# -Every seconds (POST /v2/repository/models/ctr-ranker/load: read, build, warm up, swap, retire),
# interleaved, -Repetitions times. Writes perf/results/reload-<date>.md and each run's JSON.
#   dotnet pwsh build.ps1 reload       (builds Release, then runs this with the defaults)
#   dotnet pwsh perf/reload.ps1 [-Repetitions 3] [-Duration 20] [-Rate 1000] [-Every 2] [-Out name]
# Target (issue 5): zero failed requests, and p99 with reloads under 2x the p99 without.
param(
    [int] $Repetitions = 3,
    [double] $Duration = 20,
    [int] $Rate = 1000,
    [double] $Every = 2,
    [string] $Out = ''
)

$ErrorActionPreference = 'Stop'
Set-Location (Split-Path $PSScriptRoot -Parent)
. ./perf/common.ps1
$name = New-ResultFolder $Out 'reload'
$dir = "perf/results/$name"

function Median([double[]] $xs) { $s = $xs | Sort-Object; return $s[[int][math]::Floor($s.Count / 2)] }

function Parse([string] $line) {
    $m = [regex]::Match($line, '(?<rps>\d+) req/s\tp50 (?<p50>\d+) us\tp90 (?<p90>\d+) us\tp99 (?<p99>\d+) us\tp99.9 (?<p999>\d+) us\tmax (?<max>\d+) us\terrors \[(?<errors>[^\]]*)\]')
    if (-not $m.Success) { throw "cannot parse: $line" }
    return @{ rps = [double]$m.Groups['rps'].Value; p50 = [double]$m.Groups['p50'].Value; p99 = [double]$m.Groups['p99'].Value; p999 = [double]$m.Groups['p999'].Value; max = [double]$m.Groups['max'].Value; errors = $m.Groups['errors'].Value; line = $line }
}

$p = Start-Server
$runs = @()
try {
    for ($rep = 1; $rep -le $Repetitions; $rep++) {
        foreach ($mode in @('steady', 'reloading')) {
            $json = "$dir/$mode-rep$rep.json"
            $stdout = "$dir/$mode-rep$rep.txt"
            $args = @($loadgen, '--label', $mode, '--url', "$base/v2/models/ctr-ranker/infer", '--golden', 'models/ctr-ranker/golden/batch1.json',
                '--encoding', 'msgpack', '--rate', $Rate, '--duration', $Duration, '--warmup', 2, '--json', $json)
            $lg = Start-Process dotnet -ArgumentList $args -PassThru -RedirectStandardOutput $stdout -RedirectStandardError /dev/null
            $reloads = @()
            if ($mode -eq 'reloading') {
                # The warm-up's 2 s first, then a reload every -Every seconds while the measurement runs.
                Start-Sleep -Seconds 2.5
                $until = (Get-Date).AddSeconds($Duration - 1)
                while ((Get-Date) -lt $until) {
                    $sw = [System.Diagnostics.Stopwatch]::StartNew()
                    $r = Invoke-WebRequest -Uri "$base/v2/repository/models/ctr-ranker/load" -Method Post -SkipHttpErrorCheck
                    $reloads += @{ status = [int]$r.StatusCode; ms = $sw.ElapsedMilliseconds }
                    if ($r.StatusCode -ne 200) { Write-Host "reload failed: $($r.StatusCode) $($r.Content)" }
                    Start-Sleep -Seconds ([math]::Max(0, $Every - $sw.Elapsed.TotalSeconds))
                }
            }
            $lg.WaitForExit()
            $line = (Get-Content $stdout | Where-Object { $_ -match 'req/s' } | Select-Object -Last 1)
            $r = Parse $line
            $r.mode = $mode; $r.rep = $rep; $r.reloads = $reloads
            $runs += , $r
            Write-Host "rep $rep $mode`t$line`treloads $($reloads.Count) ($(( $reloads | ForEach-Object { "$($_.ms) ms" }) -join ', '))"
        }
    }
} finally {
    Stop-Process -Id $p.Id -Force
}

$steady = @($runs | Where-Object { $_.mode -eq 'steady' })
$reloading = @($runs | Where-Object { $_.mode -eq 'reloading' })
$p99s = Median ($steady | ForEach-Object { $_.p99 })
$p99r = Median ($reloading | ForEach-Object { $_.p99 })
$failedReloads = @($reloading | ForEach-Object { $_.reloads } | Where-Object { $_.status -ne 200 }).Count
$allReloads = @($reloading | ForEach-Object { $_.reloads })
$errors = @($runs | Where-Object { $_.errors -notmatch '^(200:\d+)?$' })
$cpu = Get-CpuName
$load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
$md = @(
    "# Hot reload under load ($date)",
    '',
    "Command: ``dotnet pwsh perf/reload.ps1 -Repetitions $Repetitions -Duration $Duration -Rate $Rate -Every $Every`` (after ``dotnet pwsh build.ps1 build``; ``build.ps1 reload`` runs the defaults)",
    "Machine: $cpu, $([Environment]::ProcessorCount) cores, load average $load at the end (other tenants).",
    "ctr-ranker, MessagePack, open loop at $Rate req/s (latency from the intended start), measured $Duration s after 2 s of warm-up;",
    "the server and the load generator share the machine. A reload reads the TorchScript file, builds a version, warms it up at every",
    'batch-size bucket (1, 8, 16, 32, 64; three rounds) on its own worker thread, swaps the routing table and retires the old version.',
    '',
    '| run | req/s | p50 µs | p99 µs | p99.9 µs | max µs | status counts | reloads (ms each) |',
    '|---|---|---|---|---|---|---|---|'
)
foreach ($r in $runs) {
    $md += "| $($r.mode) rep $($r.rep) | $($r.rps) | $($r.p50) | $($r.p99) | $($r.p999) | $($r.max) | $(if ($r.errors) { $r.errors } else { 'all 200' }) | $(if ($r.reloads.Count) { "$($r.reloads.Count): " + (($r.reloads | ForEach-Object { $_.ms }) -join ', ') } else { '-' }) |"
}
$ratio = [math]::Round($p99r / [math]::Max(1, $p99s), 2)
$md += @(
    '',
    "Median p99: steady $p99s µs, reloading $p99r µs: **$ratio×** (target < 2×). Reloads: $($allReloads.Count), failed $failedReloads; runs with a status other than 200: $($errors.Count).",
    ''
)
$md -join "`n" | Set-Content "perf/results/$name.md"
Write-Host ($md -join "`n")
