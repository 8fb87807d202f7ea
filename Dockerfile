# syntax=docker/dockerfile:1
# One recipe, one target per deployable (make images builds each):
#   docker build --target gateway   -t meshbulkheads/gateway:<appVersion>   .
#   docker build --target payments  -t meshbulkheads/payments:<appVersion>  .
#   docker build --target reporting -t meshbulkheads/reporting:<appVersion> .
#   docker build --target render    -t meshbulkheads/render:<appVersion>    .
#   docker build --target meshload  -t meshbulkheads/meshload:<appVersion>  .   (the load generator)
# Base images are pinned by full version: the SDK this repository builds with (global.json rolls
# forward to it) and the runtime it ships, on Ubuntu 24.04 (noble), the .NET 10 images' default
# distribution (.NET 10 has no Debian bookworm images). Bump both together.

FROM mcr.microsoft.com/dotnet/sdk:10.0.401-noble AS restore
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Restore layer: only what NuGet reads, so a source change does not re-download packages.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY libs/MeshBulkheads.Concurrency/MeshBulkheads.Concurrency.csproj libs/MeshBulkheads.Concurrency/
COPY libs/MeshBulkheads.Contracts/MeshBulkheads.Contracts.csproj libs/MeshBulkheads.Contracts/
COPY libs/MeshBulkheads.ServiceDefaults/MeshBulkheads.ServiceDefaults.csproj libs/MeshBulkheads.ServiceDefaults/
COPY gateway/MeshBulkheads.Gateway/MeshBulkheads.Gateway.csproj gateway/MeshBulkheads.Gateway/
COPY services/MeshBulkheads.Payments/MeshBulkheads.Payments.csproj services/MeshBulkheads.Payments/
COPY services/MeshBulkheads.Reporting/MeshBulkheads.Reporting.csproj services/MeshBulkheads.Reporting/
COPY services/MeshBulkheads.Render/MeshBulkheads.Render.csproj services/MeshBulkheads.Render/
RUN for p in gateway/MeshBulkheads.Gateway services/MeshBulkheads.Payments services/MeshBulkheads.Reporting services/MeshBulkheads.Render; do \
      dotnet restore "$p" || exit 1; \
    done
COPY protos/ protos/
COPY libs/ libs/
COPY services/ services/
COPY gateway/ gateway/

FROM mcr.microsoft.com/dotnet/aspnet:10.0.12-noble AS runtime
WORKDIR /app
# Production: no development configuration (no demo tenants, no demo seeding). The chart mounts
# each host's appsettings.json at /etc/meshbulkheads/config (MESH_CONFIG_FILE).
ENV ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=0 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    Mesh__BindAddress=0.0.0.0 \
    MESH_CONFIG_FILE=/etc/meshbulkheads/config/appsettings.json
# The image's `app` user, by number, so runAsNonRoot can verify it without reading /etc/passwd.
USER 1654
ENTRYPOINT ["dotnet", "/app/host.dll"]

FROM restore AS publish-gateway
RUN dotnet publish gateway/MeshBulkheads.Gateway --no-restore -c Release -o /app /p:UseAppHost=false \
    && ln -s MeshBulkheads.Gateway.dll /app/host.dll

FROM restore AS publish-payments
RUN dotnet publish services/MeshBulkheads.Payments --no-restore -c Release -o /app /p:UseAppHost=false \
    && ln -s MeshBulkheads.Payments.dll /app/host.dll && mkdir /data

FROM restore AS publish-reporting
RUN dotnet publish services/MeshBulkheads.Reporting --no-restore -c Release -o /app /p:UseAppHost=false \
    && ln -s MeshBulkheads.Reporting.dll /app/host.dll

FROM restore AS publish-render
RUN dotnet publish services/MeshBulkheads.Render --no-restore -c Release -o /app /p:UseAppHost=false \
    && ln -s MeshBulkheads.Render.dll /app/host.dll

FROM runtime AS gateway
COPY --from=publish-gateway /app ./
EXPOSE 8080 9080

# Payments keeps its SQLite file in /data unless Payments__ConnectionString points at PostgreSQL;
# the chart mounts an emptyDir there (the root filesystem is read-only).
FROM runtime AS payments
COPY --from=publish-payments /app ./
COPY --from=publish-payments --chown=1654:1654 /data /data
ENV Payments__DataDirectory=/data
EXPOSE 8081 9081

FROM runtime AS reporting
COPY --from=publish-reporting /app ./
EXPOSE 8082 9082

FROM runtime AS render
COPY --from=publish-render /app ./
EXPOSE 8083 9083

# meshload, the load generator (tools/MeshBulkheads.LoadGen): the chart's `helm test` pod and load Job.
# Its own restore and publish, so a change in tools/ does not rebuild the hosts' layers.
FROM restore AS publish-meshload
COPY tools/MeshBulkheads.LoadGen/MeshBulkheads.LoadGen.csproj tools/MeshBulkheads.LoadGen/
RUN dotnet restore tools/MeshBulkheads.LoadGen
COPY tools/MeshBulkheads.LoadGen/ tools/MeshBulkheads.LoadGen/
RUN dotnet publish tools/MeshBulkheads.LoadGen --no-restore -c Release -o /app /p:UseAppHost=false

# The same pinned runtime as the hosts (shared layers), without the hosts' environment: meshload is a
# client, it listens on nothing (no EXPOSE). No fonts are installed: the Job writes JSON to its log;
# ScottPlot's SkiaSharp (NativeAssets.Linux.NoDependencies) finds no font here, so an HTML report
# (--report) written in this image has its plots but mis-measured labels — write reports on a workstation.
FROM mcr.microsoft.com/dotnet/aspnet:10.0.12-noble AS meshload
WORKDIR /app
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0
COPY --from=publish-meshload /app ./
USER 1654
ENTRYPOINT ["dotnet", "/app/MeshBulkheads.LoadGen.dll"]
