using MeshBulkheads.AppHost;

// `make run` (scripts/run.sh) starts this: the gateway and the three services as processes on their
// fixed local ports, with the Aspire dashboard for traces, metrics and logs. The tests start it
// through Aspire.Hosting.Testing with MeshBulkheads:PortOffset so they do not clash with a running mesh.
var builder = DistributedApplication.CreateBuilder(args);
var settings = MeshAppHostSettings.From(builder);

var payments = builder.AddProject<Projects.MeshBulkheads_Payments>("payments")
    .WithMeshPorts(settings.Payments)
    .WithAdminToken(settings)
    .WithEnvironment("Payments__DataDirectory", settings.PaymentsDataDirectory)
    .WithIdentityKey(settings, "payments");

var reporting = builder.AddProject<Projects.MeshBulkheads_Reporting>("reporting")
    .WithMeshPorts(settings.Reporting)
    .WithAdminToken(settings)
    .WithEnvironment("Reporting__PaymentsAddress", settings.Payments.GrpcAddress)
    .WithIdentityKey(settings, "reporting")
    .WaitFor(payments);

var render = builder.AddProject<Projects.MeshBulkheads_Render>("render")
    .WithMeshPorts(settings.Render)
    .WithAdminToken(settings)
    .WithIdentityKey(settings, "render");

builder.AddProject<Projects.MeshBulkheads_Gateway>("gateway")
    .WithMeshPorts(settings.Gateway)
    .WithAdminToken(settings)
    .WithClusterDestination("payments", settings.Payments)
    .WithClusterDestination("reporting", settings.Reporting)
    .WithClusterDestination("render", settings.Render)
    .WithSigningKeys(settings)
    .WaitFor(payments)
    .WaitFor(reporting)
    .WaitFor(render);

builder.Build().Run();
