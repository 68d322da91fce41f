export { answerHttp } from "./routes.ts";
export { errorShape, ravenError, ravenTypes } from "./errors.ts";
export type { HttpRequest, HttpResponse, RequestApi } from "./types.ts";
