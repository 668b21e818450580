# Podman as the project's machines need it, dot-sourced by build-image.ps1 and smoke.ps1.
# Debian's podman 4.3 runs here only with ops/container/containers.conf (runc, default_ulimits), which
# CONTAINERS_CONF passes to every podman command this process starts.

# Commands and the Debian package that brings each. Building needs more than running.
$script:PodmanTools = [ordered] @{ podman = 'podman'; runc = 'runc' }
$script:BuildTools = [ordered] @{ debootstrap = 'debootstrap'; strip = 'binutils' }

# Why podman cannot be used here, or $null when it can (installing what is missing when root).
function Get-PodmanProblem([switch] $Build) {
    $tools = [ordered] @{}
    $script:PodmanTools.GetEnumerator() | ForEach-Object { $tools[$_.Key] = $_.Value }
    if ($Build) { $script:BuildTools.GetEnumerator() | ForEach-Object { $tools[$_.Key] = $_.Value } }
    $missing = @($tools.Keys | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) })
    if ($missing.Count -gt 0) {
        $packages = @($missing | ForEach-Object { $tools[$_] } | Select-Object -Unique)
        if ((& id -u) -ne '0') { return "not root, and $($missing -join ', ') missing: apt-get install $($packages -join ' ')" }
        if (-not (Get-Command apt-get -ErrorAction SilentlyContinue)) { return "$($missing -join ', ') missing and no apt-get" }
        Write-Host "podman: apt-get install $($packages -join ' ')"
        $env:DEBIAN_FRONTEND = 'noninteractive'
        & apt-get update -qq | Out-Null
        & apt-get install -y -qq @packages | Out-Null
        if ($LASTEXITCODE -ne 0) { return "apt-get install $($packages -join ' ') failed with exit code $LASTEXITCODE" }
    }
    if (-not $env:CONTAINERS_CONF) {
        $env:CONTAINERS_CONF = (Resolve-Path (Join-Path $PSScriptRoot 'containers.conf')).Path
    }
    & podman info --format '{{.Host.OCIRuntime.Name}}' *> $null
    if ($LASTEXITCODE -ne 0) { return "podman info failed (exit code $LASTEXITCODE) with CONTAINERS_CONF=$env:CONTAINERS_CONF" }
    return $null
}

function Initialize-Podman([switch] $Build) {
    $problem = Get-PodmanProblem -Build:$Build
    if ($problem) { throw "podman: $problem" }
}

function Test-PodmanImage([string] $Name) {
    & podman image exists $Name
    return $LASTEXITCODE -eq 0
}
