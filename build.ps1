#!/usr/bin/env pwsh
# The build entry point. Run with PowerShell 7 from the local tool manifest:
#   dotnet tool restore
#   dotnet pwsh build.ps1 <target> [extra arguments]
# Targets:
#   build   compile everything (Release)
#   test    verify formatting, run every test, then the allocation budgets (microbench), a
#           replay of the fuzz harness's seed corpus, and the Python gRPC client against the
#           Release server (tests/python; skipped, saying so, without Debian's python3-grpcio and
#           python3-grpc-tools); fails if any part fails. Prints each failing

#           test (name, message, stack), the benchmarks' table and the allocation gate's, and last
#           "N passed, N failed, N skipped"; not a line per passing test, nor BenchmarkDotNet's log
#   microbench  BenchmarkDotNet micro-benchmarks of the hot paths with MemoryDiagnoser, then the
#           allocation gate (bytes per operation against each benchmark's [AllocationBudget]);
#           --verbose adds BenchmarkDotNet's log of every iteration
#   run     start the server on http://127.0.0.1:8000 with models/ and feature_repo/ (extra arguments go to the server)
#   upgrade  replace the serving process on the same port with a fresh build, no request refused
#           (ops/upgrade/upgrade.ps1): publishes into .serve/<time>-<commit>, starts it detached with
#           SO_REUSEPORT and .serve/server.pid; once ready it makes the old process leave. Exit 1, the
#           old process serving on, if the new one fails. Extra arguments go to the server (the same each time)
#   bench   the engine benchmark (no HTTP): perf/results/engine-<date>.json
#   perf    side by side on loopback: transport floor, this server, the Python peer, wrk cross-check
#           (perf/side-by-side.ps1; about 12 minutes): perf/results/side-by-side-<date>.md; and
#           feature-joined inference, ids against ready tensors and the peer's join over Redis
#           (perf/joined.ps1; about 6 minutes; alone: -Models candidate-ranker): perf/results/joined-<date>-<commit>.md
#   reload  hot reload under a steady 1,000 req/s, against the same load without reloads
#           (perf/reload.ps1; about 3 minutes): perf/results/reload-<date>.md
#   overload  3x the maximum throughput offered for 60 s: admitted p99, refusals, memory
#           (perf/overload.ps1; about 2 minutes): perf/results/overload-<date>.md
#           perf, reload and overload pass their named parameters on to the script:
#           dotnet pwsh build.ps1 overload -Factor 2 -Duration 30 -Out overload-x2
#   image   the server's container image with podman (ops/container/build-image.ps1): a self-contained
#           publish on a Debian 12 base made with debootstrap (kept between builds), models/ baked in;
#           prints the image's name and size. -Models <dir>|none, -Tag <name>, -RefreshBase
#   image-smoke  build the image, run it read-only with every capability dropped on a loopback port,
#           pass every golden case through it, SIGTERM it and check the drain and exit code 0
#           (ops/container/smoke.ps1; about 1 minute, 2 when the base is made). Skips, saying why,
#           where podman cannot be installed
#   deploy-check  render every Kustomize overlay and KServe example under deploy/ and validate each
#           object against its schema, unknown fields refused; the validator's own negative test
#           first; promtool on the Prometheus adapter's queries; yamllint on every YAML file
#           (deploy/validate/check.sh; about 25 s)
#   stream  the stream processor as its own process (streams/Runner): computes the stream views of a
#           feature repository from Redis Streams into the online store until SIGTERM or Ctrl-C;
#           --repository (streams/feature_repo), --connection-string (127.0.0.1:6379) and the other
#           StreamProcessorOptions as --name value (docs/streams.md)
#   events  the synthetic event generator: appends events to a stream source's partitions;
#           --count, --rate (0: as fast as Redis takes them), --keys, --skew, --out-of-order,
#           --late, --final-watermark, ... (docs/streams.md)
#   streams-bench  the stream processor's throughput, end-to-end delay and memory per key, beside
#           redis-benchmark's XADD and XREADGROUP (perf/streams.ps1; about 3 minutes):
#           perf/results/streams-<date>.md
#   trace   a dotnet-trace of the server under load (speedscope): perf/results/tmp/server.speedscope.json
#   format  apply dotnet format
#   clean   remove build outputs
# A plain script (no [Parameter] attributes): everything after the target lands in $args as typed.
# An advanced script would add the common parameters, and a perf script's -Out would then be
# refused as ambiguous (-OutVariable, -OutBuffer).
param(
    [ValidateSet('build', 'test', 'microbench', 'run', 'upgrade', 'bench', 'perf', 'reload', 'overload', 'image', 'image-smoke', 'deploy-check', 'stream', 'events', 'streams-bench', 'trace', 'format', 'clean')]
    [string] $Target = 'build'
)
$Rest = [string[]] $args

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$Solution = 'LowLatency.sln'
$Configuration = 'Release'

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) {
        Write-Error "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" -ErrorAction Continue
        exit $LASTEXITCODE
    }
}

# What follows the target, for the targets that hand it to a .NET program (test, run, bench, stream, events,
# microbench). PowerShell binds a token like "--LowLatency:SpinMicroseconds=100" as a parameter
# even when it lands in $args, dropping the colon, and refuses "--" before it: so when this process
# was started on this script (dotnet pwsh build.ps1 <target> ...), the arguments are taken from its
# own command line, as typed.
function Get-PassedArguments {
    $raw = [Environment]::GetCommandLineArgs()
    for ($i = 0; $i -lt $raw.Count - 1; $i++) {
        if ((Split-Path -Leaf $raw[$i]) -eq 'build.ps1' -and $raw[$i + 1] -eq $Target) {
            if ($i + 2 -ge $raw.Count) { return [string[]] @() }
            return [string[]] $raw[($i + 2)..($raw.Count - 1)]
        }
    }
    return $Rest
}

# The perf scripts take named parameters (-Duration 5 -Models ctr-ranker,image-classifier -NoPeer).
# Splatting $Rest as an array would hand them "-Duration" as a positional string, not a name: turn
# "-Name value" pairs into a hashtable (a value with commas into a list; a name alone into a switch).
function ConvertTo-ScriptParameters([string[]] $Arguments) {
    $named = @{}
    for ($i = 0; $i -lt $Arguments.Count; $i++) {
        if ($Arguments[$i] -notmatch '^-([A-Za-z]\w*):?$') {
            Write-Error "build.ps1: '$($Arguments[$i])' is not a -Name: the perf scripts take named parameters only" -ErrorAction Continue
            exit 2
        }
        $name = $Matches[1]
        if ($i + 1 -lt $Arguments.Count -and $Arguments[$i + 1] -notmatch '^-[A-Za-z]') {
            $value = $Arguments[++$i]
            $named[$name] = if ($value.Contains(',')) { [string[]] ($value -split ',') } else { $value }
        } else {
            $named[$name] = $true
        }
    }
    return $named
}

# A loopback TCP port nothing listens on now (the system picks it; a race with another process
# taking it before the server binds is possible but rare, and fails loudly).
function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { return $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Get-TestSummary([string] $ResultsDir) {

    # dotnet test prints its own summary; CI reads this plain "N passed, N failed" line, printed last.
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($trx in Get-ChildItem -Path $ResultsDir -Filter *.trx -Recurse) {
        [xml] $doc = Get-Content -Raw $trx.FullName
        $c = $doc.TestRun.ResultSummary.Counters
        $passed += [int] $c.passed
        $failed += [int] $c.failed + [int] $c.error + [int] $c.timeout + [int] $c.aborted
        $skipped += [int] $c.notExecuted
    }
    return "$passed passed, $failed failed, $skipped skipped"
}

switch ($Target) {
    'build' {
        Invoke-Dotnet build $Solution -c $Configuration
    }
    'test' {
        Invoke-Dotnet restore $Solution -v q
        Invoke-Dotnet format $Solution --verify-no-changes --no-restore
        $results = Join-Path $PSScriptRoot 'tests/TestResults'
        if (Test-Path $results) { Remove-Item -Recurse -Force $results }
        $passed = Get-PassedArguments
        # The console logger at minimal verbosity prints each failing test with its message and
        # stack, and no line per passing test; the trx files give the counts.
        & dotnet test $Solution -c $Configuration --no-restore -v q --logger 'trx' --logger 'console;verbosity=minimal' --results-directory $results @passed
        $code = $LASTEXITCODE
        $summary = Get-TestSummary $results
        # Whatever fails from here, the tests' counts stay the last line.
        function Stop-Test([int] $Code) {
            Write-Host $summary
            exit $Code
        }

        if ($code -ne 0) { Stop-Test $code }

        # Allocation is deterministic where timing is not: this gate is safe on a noisy machine.
        # dotnet test builds only the test projects and what they reference: build the benchmarks.
        & dotnet build perf/MicroBench -c $Configuration --no-restore -v q -nologo
        if ($LASTEXITCODE -ne 0) { Stop-Test $LASTEXITCODE }
        & dotnet perf/MicroBench/bin/$Configuration/net10.0/LowLatency.MicroBench.dll
        if ($LASTEXITCODE -ne 0) { Stop-Test $LASTEXITCODE }

        # The SharpFuzz harness keeps building and running: it replays its seed corpus (libFuzzer
        # itself is not on CI machines; docs/security.md, Fuzzing).
        & dotnet build tests/Fuzz -c $Configuration --no-restore -v q -nologo
        if ($LASTEXITCODE -ne 0) { Stop-Test $LASTEXITCODE }
        $replays = @(
            @('msgpack', 'models/ctr-ranker/config.json', 'tests/Fuzz/corpus/msgpack'),
            @('json', 'models/ctr-ranker/config.json', 'tests/Fuzz/corpus/json'),
            @('binary', 'models/ctr-ranker/config.json', 'tests/Fuzz/corpus/binary'),
            # The text encoder's variable-length inputs take the decoder's other paths (padding, max_variable_dim).
            @('msgpack', 'models/text-encoder/config.json', 'tests/Fuzz/corpus/msgpack-text-encoder'),
            # The gRPC face's ModelInferRequest decoder, raw and typed contents.
            @('grpc', 'models/ctr-ranker/config.json', 'tests/Fuzz/corpus/grpc'))
        foreach ($replay in $replays) {
            & dotnet tests/Fuzz/bin/$Configuration/net10.0/LowLatency.Fuzz.dll $replay[0] $replay[1] --replay $replay[2]
            if ($LASTEXITCODE -ne 0) { Stop-Test $LASTEXITCODE }
        }

        # The client library and its protocol package keep packing (docs/client.md), the client with its XML docs.
        $packages = Join-Path ([System.IO.Path]::GetTempPath()) "lowlatency-pack-$PID"
        foreach ($project in @('protocol', 'client')) {
            & dotnet pack $project -c $Configuration --no-restore --no-build -v q -nologo -o $packages
            if ($LASTEXITCODE -ne 0) { Stop-Test $LASTEXITCODE }
        }
        foreach ($id in @('LowLatency.Protocol', 'LowLatency.Client')) {
            $package = Get-ChildItem $packages -Filter "$id.*.nupkg" | Select-Object -First 1
            if (-not $package) { Write-Host "dotnet pack made no $id package"; Stop-Test 1 }
            Add-Type -AssemblyName System.IO.Compression.FileSystem
            $zip = [System.IO.Compression.ZipFile]::OpenRead($package.FullName)
            $entries = @($zip.Entries | ForEach-Object FullName)
            $zip.Dispose()
            $wanted = @("lib/net10.0/$id.dll") + $(if ($id -eq 'LowLatency.Client') { @("lib/net10.0/$id.xml") } else { @() })
            foreach ($w in $wanted) {
                if ($entries -notcontains $w) { Write-Host "$($package.Name) lacks ${w}: $($entries -join ', ')"; Stop-Test 1 }
            }

            Write-Host "packed $($package.Name)"
        }
        Remove-Item -Recurse -Force $packages

        # A Python client with stubs generated from protocol/'s proto files, as a Triton user's own

        # would be, against the Release server's gRPC listener (Debian's python3-grpcio and
        # python3-grpc-tools; .ci/run installs them).
        & /usr/bin/python3 -c 'import grpc, grpc_tools, numpy' 2>$null
        if ($LASTEXITCODE -ne 0) {
            Write-Host 'skipped tests/python/grpc_golden.py: /usr/bin/python3 lacks grpc, grpc_tools or numpy (apt-get install python3-grpcio python3-grpc-tools python3-numpy)'
        } else {
            $rest = Get-FreePort; $grpc = Get-FreePort
            $server = Start-Process dotnet -ArgumentList @("host/bin/$Configuration/net10.0/LowLatency.Host.dll", '--urls', "http://127.0.0.1:$rest", '--grpc-urls', "http://127.0.0.1:$grpc", '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
            try {
                for ($i = 0; $i -lt 600; $i++) {
                    Start-Sleep -Milliseconds 100
                    try { if ((Invoke-WebRequest -Uri "http://127.0.0.1:$rest/v2/health/ready" -SkipHttpErrorCheck).StatusCode -eq 200) { break } } catch { }
                }
                & /usr/bin/python3 tests/python/grpc_golden.py --target "127.0.0.1:$grpc" --models models
                $code = $LASTEXITCODE
            } finally {
                Stop-Process -Id $server.Id -Force
            }
            if ($code -ne 0) { Stop-Test $code }
        }


        Stop-Test 0
    }
    'microbench' {
        Invoke-Dotnet build perf/MicroBench -c $Configuration
        $passed = Get-PassedArguments
        & dotnet perf/MicroBench/bin/$Configuration/net10.0/LowLatency.MicroBench.dll @passed
        exit $LASTEXITCODE
    }
    'run' {
        $passed = Get-PassedArguments
        # The example feature repository too, so a fresh clone serves Feast's routes; arguments that
        # follow (a --feature-repository of your own) take precedence.
        Invoke-Dotnet run --project host -c $Configuration -- --feature-repository feature_repo @passed
    }
    'upgrade' {
        $passed = Get-PassedArguments
        & ./ops/upgrade/upgrade.ps1 -ServerArguments $passed
        exit $LASTEXITCODE
    }
    'bench' {
        Invoke-Dotnet build perf/EngineBench -c $Configuration
        $passed = Get-PassedArguments
        $date = Get-Date -Format 'yyyy-MM-dd'
        Invoke-Dotnet perf/EngineBench/bin/$Configuration/net10.0/enginebench.dll --requests 20000 --out "perf/results/engine-$date.json" @passed
    }
    'perf' {
        Invoke-Dotnet build $Solution -c $Configuration
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./perf/side-by-side.ps1 @parameters
    }
    'reload' {
        Invoke-Dotnet build $Solution -c $Configuration
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./perf/reload.ps1 @parameters
    }
    'overload' {
        Invoke-Dotnet build $Solution -c $Configuration
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./perf/overload.ps1 @parameters
    }
    'image' {
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./ops/container/build-image.ps1 @parameters
        exit $LASTEXITCODE
    }
    'image-smoke' {
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./ops/container/smoke.ps1 @parameters
        exit $LASTEXITCODE
    }
    'deploy-check' {
        & bash deploy/validate/check.sh
        exit $LASTEXITCODE
    }
    { $_ -in 'stream', 'events' } {
        Invoke-Dotnet build streams/Runner -c $Configuration -v q -nologo
        $passed = Get-PassedArguments
        & dotnet streams/Runner/bin/$Configuration/net10.0/streamrunner.dll $Target @passed
        exit $LASTEXITCODE
    }
    'streams-bench' {
        Invoke-Dotnet build perf/StreamBench -c $Configuration -v q -nologo
        $parameters = ConvertTo-ScriptParameters $Rest
        & ./perf/streams.ps1 @parameters
    }
    'trace' {
        Invoke-Dotnet build $Solution -c $Configuration
        New-Item -ItemType Directory -Force perf/results/tmp | Out-Null
        $server = Start-Process dotnet -ArgumentList @("host/bin/$Configuration/net10.0/LowLatency.Host.dll", '--urls', 'http://127.0.0.1:8002', '--Logging:LogLevel:Default=Warning') -PassThru -RedirectStandardOutput /dev/null
        try {
            for ($i = 0; $i -lt 300; $i++) {
                Start-Sleep -Milliseconds 100
                try { if ((Invoke-WebRequest -Uri 'http://127.0.0.1:8002/v2/health/ready' -SkipHttpErrorCheck).StatusCode -eq 200) { break } } catch { }
            }
            $load = Start-Process dotnet -ArgumentList @("perf/LoadGen/bin/$Configuration/net10.0/loadgen.dll", '--url', 'http://127.0.0.1:8002/v2/models/ctr-ranker/infer', '--concurrency', '16', '--duration', '14', '--warmup', '1') -PassThru
            Start-Sleep -Seconds 2
            Invoke-Dotnet tool run dotnet-trace collect -p $server.Id --duration 00:00:00:10 --format Speedscope -o perf/results/tmp/server.nettrace
            $load.WaitForExit()
        } finally {
            Stop-Process -Id $server.Id -Force
        }
        Write-Host 'open perf/results/tmp/server.speedscope.json in https://www.speedscope.app (Left Heavy view; threads ll-w<n>.<model>.v<version> are the device workers)'
    }
    'format' {
        Invoke-Dotnet format $Solution
    }
    'clean' {
        Get-ChildItem -Path engine, host, native, features, streams, tests, perf -Include bin, obj -Directory -Recurse -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force
    }
}
