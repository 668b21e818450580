#!/usr/bin/env pwsh
# Replaces the serving process on the same port with a fresh build, refusing no request
# (docs/operations.md#binary-replacement-on-the-same-port). Run from build.ps1:
#   dotnet pwsh build.ps1 upgrade [server arguments, the same at every upgrade]
# Publishes the host into a directory of its own under .serve/ (a build in place would overwrite the
# files the running process maps), starts it detached with SO_REUSEPORT and the pid file
# .serve/server.pid, and waits: once the new process is ready it asks the old one to leave (SIGUSR2)
# and writes its pid in the file. With no server running it is simply the first. If the new process
# exits first (a model that does not load, a refused setting), the old one serves on untouched: its
# log is printed and the exit code is 1.
param([string[]] $ServerArguments = @(), [int] $TimeoutSeconds = 300)

$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
Set-Location $root
$serve = Join-Path $root '.serve'
$pidFile = Join-Path $serve 'server.pid'
$stamp = Get-Date -Format 'yyyyMMdd-HHmmss'
$commit = (& git rev-parse --short HEAD 2>$null) ?? 'nogit'
$dir = Join-Path $serve "$stamp-$commit"
New-Item -ItemType Directory -Force -Path $dir | Out-Null

# Hard links where the file system allows (libtorch is 600 MB a copy); nothing writes those files.
$built = & dotnet publish host -c Release -o $dir --nologo -v quiet -p:CreateHardLinksForPublishFilesIfPossible=true 2>&1
if ($LASTEXITCODE -ne 0) {
    $built | Write-Host
    Write-Error "upgrade: the publish failed ($LASTEXITCODE); nothing was replaced" -ErrorAction Continue
    exit 1
}

$old = if (Test-Path $pidFile) { (Get-Content $pidFile -Raw).Trim() } else { '' }
$log = Join-Path $dir 'server.log'
# sh: the output to a file, stdin from /dev/null and SIGHUP ignored, so that the server outlives this
# script and its terminal; exec keeps the pid.
$psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
foreach ($a in @('-c', 'trap "" HUP; exec "$0" "$@" > "$LL_UPGRADE_LOG" 2>&1 < /dev/null', 'dotnet', (Join-Path $dir 'LowLatency.Host.dll'),
        '--LowLatency:ReusePort=true', "--LowLatency:PidFile=$pidFile") + $ServerArguments) {
    $psi.ArgumentList.Add($a)
}
$psi.Environment['LL_UPGRADE_LOG'] = $log
$psi.UseShellExecute = $false
$new = [System.Diagnostics.Process]::Start($psi)
Write-Host "upgrade: started process $($new.Id) from $dir (log: $log)$(if ($old) { "; replacing process $old" })"

$deadline = (Get-Date).AddSeconds($TimeoutSeconds)
while ((Get-Date) -lt $deadline) {
    if ((Test-Path $pidFile) -and (Get-Content $pidFile -Raw).Trim() -eq "$($new.Id)") {
        Write-Host "upgrade: process $($new.Id) is ready and serving$(if ($old) { "; process $old was asked to leave and drains" })"
        # Kept: this build and the one before it (still draining, and at hand to go back to); the older
        # ones' processes have left (one replacement at a time, each waiting for its predecessor to exit).
        Get-ChildItem $serve -Directory | Sort-Object Name -Descending | Select-Object -Skip 2 | Remove-Item -Recurse -Force
        exit 0
    }
    if ($new.HasExited) {
        Get-Content $log -Tail 20 | Write-Host
        Write-Error "upgrade: the new process exited with code $($new.ExitCode) before it was ready; $(if ($old) { "process $old serves on" } else { 'no server is running' })" -ErrorAction Continue
        exit 1
    }
    Start-Sleep -Milliseconds 200
}
Write-Error "upgrade: process $($new.Id) was not ready within $TimeoutSeconds s; it is stopped, $(if ($old) { "process $old serves on" })" -ErrorAction Continue
$new.Kill()
exit 1
