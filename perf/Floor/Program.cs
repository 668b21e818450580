using System.IO.Pipelines;

// The transport floor: a minimal Kestrel endpoint at the inference route that reads the whole
// request body from the pipe and answers a precomputed response of a given size. What HTTP alone
// costs here, for side-by-side comparison with the server.
//   floor --urls http://127.0.0.1:8001 [--response-bytes 96]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
int size = builder.Configuration.GetValue("response-bytes", 96);
var response = new byte[size];
Random.Shared.NextBytes(response);
var app = builder.Build();
app.MapPost("/v2/models/{name}/infer", async (HttpContext ctx) =>
{
    PipeReader reader = ctx.Request.BodyReader;
    while (true)
    {
        var result = await reader.ReadAsync();
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }

    ctx.Response.ContentType = "application/msgpack";
    ctx.Response.ContentLength = response.Length;
    await ctx.Response.Body.WriteAsync(response);
});
app.Run();
