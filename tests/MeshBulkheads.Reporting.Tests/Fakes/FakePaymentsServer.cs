using System.Net;
using MeshBulkheads.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Reporting.Tests.Fakes;

/// <summary>Hosts a <see cref="FakePaymentsService"/> on a tiny Kestrel app, 127.0.0.1 port 0, h2c.</summary>
public sealed class FakePaymentsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakePaymentsServer(WebApplication app, FakePaymentsService service, Uri address)
    {
        _app = app;
        Service = service;
        Address = address;
    }

    public FakePaymentsService Service { get; }

    public Uri Address { get; }

    public static async Task<FakePaymentsServer> StartAsync()
    {
        var service = new FakePaymentsService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        // grpc-dotnet resolves the service from DI when registered: every call sees this one instance.
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<FakePaymentsService>();
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakePaymentsServer(app, service, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        // Open any gate so held calls finish and Kestrel can stop promptly.
        Service.Gate?.TrySetResult();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }
}
