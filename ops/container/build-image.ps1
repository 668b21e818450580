#!/usr/bin/env pwsh
# Builds the server's image (ops/container/Containerfile) with podman: `dotnet pwsh build.ps1 image`.
#   -Models <dir>|none  the model repository baked in at /models (default: the repository's models/);
#                       none bakes in an empty one, for a repository mounted at /models
#   -Features <dir>|none  the feature repository baked in at /features and served (default: the
#                       repository's feature_repo/); none: no feature store (mount one and pass
#                       --feature-repository, or set LowLatency__FeatureRepository)
#   -Tag <name>         the image's name (default localhost/lowlatency); tagged :<version> and :latest
#   -RefreshBase        make the Debian base again (new point release and security fixes)
# Prints the image's name, labels and size last. Needs root the first time (apt-get, debootstrap);
# no registry: the base is made from Debian's packages and kept in podman's store between builds.
param(
    [string] $Models = 'models',
    [string] $Features = 'feature_repo',
    [string] $Tag = 'localhost/lowlatency',
    [switch] $RefreshBase
)

$ErrorActionPreference = 'Stop'
$Root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Set-Location $Root
. (Join-Path $PSScriptRoot 'podman.ps1')

$BaseImage = 'localhost/lowlatency-base:bookworm'
$Context = Join-Path $Root 'out/image/context'

function Invoke-Checked {
    & $args[0] @($args | Select-Object -Skip 1)
    if ($LASTEXITCODE -ne 0) { throw "$($args -join ' ') failed with exit code $LASTEXITCODE" }
}

# Debian 12 minbase from Debian's packages, imported into podman: the only base this machine can have
# without a registry. Documentation, man pages and translations are left out now and, through dpkg's
# path-exclude, from whatever the Containerfile installs later (copyright files stay).
function New-BaseImage {
    $mirror = Get-DebianMirror
    $dir = Join-Path ([IO.Path]::GetTempPath()) "lowlatency-base-$PID"
    Write-Host "image: making the base with debootstrap --variant=minbase bookworm from $mirror (about 1.5 minutes)"
    try {
        Invoke-Checked debootstrap --variant=minbase bookworm $dir $mirror
        Set-Content -Path "$dir/etc/dpkg/dpkg.cfg.d/01-lowlatency-slim" -Value @(
            'path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright',
            'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/info/*',
            'path-exclude=/usr/share/locale/*', 'path-exclude=/usr/share/lintian/*')
        Set-Content -Path "$dir/etc/apt/apt.conf.d/01-lowlatency-slim" -Value @(
            'APT::Install-Recommends "false";', 'APT::Install-Suggests "false";', 'Acquire::Languages "none";')
        # Security fixes come from bookworm-security; debootstrap only writes the release itself.
        Remove-Item -Force -ErrorAction SilentlyContinue "$dir/etc/apt/sources.list"
        Set-Content -Path "$dir/etc/apt/sources.list.d/debian.sources" -Value @(
            'Types: deb', "URIs: $mirror", 'Suites: bookworm bookworm-updates', 'Components: main',
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
            'Types: deb', "URIs: $($mirror -replace '/debian/?$', '/debian-security')", 'Suites: bookworm-security', 'Components: main',
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg')
        Get-ChildItem "$dir/usr/share/doc" -Recurse -File | Where-Object Name -ne 'copyright' | Remove-Item -Force
        foreach ($d in 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian', 'var/cache/apt', 'var/lib/apt/lists') {
            Get-ChildItem "$dir/$d" -Force -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force
        }
        Get-ChildItem "$dir/var/log" -Recurse -File -ErrorAction SilentlyContinue | Remove-Item -Force
        & bash -c "tar -C '$dir' --numeric-owner -c . | podman import --message 'debootstrap --variant=minbase bookworm' - $BaseImage"
        if ($LASTEXITCODE -ne 0) { throw "podman import failed with exit code $LASTEXITCODE" }
    } finally {
        if (Test-Path $dir) { & rm -rf --one-file-system $dir }
    }
}

# The mirror apt already uses here (the machine reaches Debian's packages, nothing else).
function Get-DebianMirror {
    foreach ($file in @(Get-ChildItem /etc/apt/sources.list.d/*.sources -ErrorAction SilentlyContinue)) {
        foreach ($line in Get-Content $file) {
            if ($line -match '^URIs:\s*(\S+/debian)/?\s*$') { return $Matches[1] }
        }
    }
    foreach ($line in @(Get-Content /etc/apt/sources.list -ErrorAction SilentlyContinue)) {
        if ($line -match '^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s+bookworm') { return $Matches[1] }
    }
    return 'http://deb.debian.org/debian'
}

# The host's self-contained publish, less what the server never loads: libtorch_python (needs a
# Python), libtorch's test and backend-example libraries. libtorch_cpu.so ships its full symbol table
# (92 MB of 461): stripped of it (the dynamic symbols stay) into a new file, so that a publish that
# hard-links the package cache's file never changes it.
function Publish-Host {
    $app = Join-Path $Context 'app'
    Write-Host 'image: dotnet publish host (Release, linux-x64, self-contained)'
    Invoke-Checked dotnet publish host -c Release -r linux-x64 --self-contained -o $app -v q -nologo
    foreach ($unused in 'libtorch_python.so', 'libjitbackend_test.so', 'libtorchbind_test.so', 'libbackend_with_compiler.so', 'libaoti_custom_ops.so', 'libnnapi_backend.so') {
        Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $app $unused)
    }
    foreach ($lib in 'libtorch_cpu.so', 'libc10.so') {
        $path = Join-Path $app $lib
        Invoke-Checked strip --strip-unneeded -o "$path.stripped" $path
        Move-Item -Force "$path.stripped" $path
    }
}

function Copy-Models {
    $target = Join-Path $Context 'models'
    New-Item -ItemType Directory -Force $target | Out-Null
    if ($Models -eq 'none') { return }
    if (-not (Test-Path (Join-Path $Models '*/config.json'))) { throw "-Models ${Models}: no <model>/config.json under it (or pass -Models none)" }
    # The repository as it is, less what only the tests and the export read.
    Copy-Item -Recurse -Path (Join-Path $Models '*') -Destination $target -Exclude 'golden', 'golden-joined', '*.py', '__pycache__'
    Get-ChildItem $target -Recurse -Directory -Filter 'golden*' | Remove-Item -Recurse -Force
}

function Copy-Features {
    $target = Join-Path $Context 'features'
    New-Item -ItemType Directory -Force $target | Out-Null
    if ($Features -eq 'none') { return }
    if (-not (Test-Path (Join-Path $Features 'feature_store.json'))) { throw "-Features ${Features}: no feature_store.json in it (or pass -Features none)" }
    # Definition files only: the server reads *.json directly in the folder.
    Copy-Item -Path (Join-Path $Features '*.json') -Destination $target
}

Initialize-Podman -Build
if ($RefreshBase -or -not (Test-PodmanImage $BaseImage)) { New-BaseImage }

if (Test-Path $Context) { Remove-Item -Recurse -Force $Context }
New-Item -ItemType Directory -Force $Context | Out-Null
Publish-Host
Copy-Models
Copy-Features

$commit = (& git rev-parse HEAD).Trim()
$version = (& git describe --tags --always --dirty).Trim()
$created = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
Write-Host "image: podman build $Tag`:$version"
Invoke-Checked podman build --file ops/container/Containerfile --build-arg "BASE=$BaseImage" `
    --build-arg "VERSION=$version" --build-arg "COMMIT=$commit" --build-arg "CREATED=$created" `
    --build-arg "FEATURE_REPOSITORY=$(if ($Features -eq 'none') { '' } else { '/features' })" `
    --tag "$Tag`:$version" --tag "$Tag`:latest" $Context

$size = [long] (& podman image inspect --format '{{.Size}}' "$Tag`:$version")
$labels = & podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "org.opencontainers.image.revision"}}' "$Tag`:$version"
Write-Host ("image: {0}:{1} (version, commit: {2}), {3:N0} MiB" -f $Tag, $version, $labels, ($size / 1MB))
Set-Content -Path (Join-Path $Root 'out/image/tag') -Value "$Tag`:$version"
