# One image recipe for every host: docker build --build-arg PROJECT=services/MeshBulkheads.Payments -t meshbulkheads/payments .
# (PROJECT is gateway/MeshBulkheads.Gateway, services/MeshBulkheads.{Payments,Reporting,Render}).
# The hosts do not depend on Aspire; inside a container they bind 0.0.0.0 and keep their default ports.
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG PROJECT
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY protos/ protos/
COPY libs/ libs/
COPY services/ services/
COPY gateway/ gateway/
RUN test -n "${PROJECT}" || (echo "--build-arg PROJECT=<path to the host project folder> is required" && exit 1)
RUN dotnet publish "${PROJECT}" -c Release -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
ARG PROJECT
WORKDIR /app
COPY --from=build /app ./
ENV Mesh__BindAddress=0.0.0.0 \
    DOTNET_gcServer=0 \
    ASPNETCORE_ENVIRONMENT=Production
# Payments keeps its SQLite file here unless Payments__ConnectionString points at PostgreSQL.
ENV Payments__DataDirectory=/data
RUN ln -s "$(basename "${PROJECT}").dll" /app/host.dll && mkdir -p /data && chown app /data
VOLUME ["/data"]
USER app
EXPOSE 8080 8081 8082 8083 9080 9081 9082 9083
ENTRYPOINT ["dotnet", "/app/host.dll"]
