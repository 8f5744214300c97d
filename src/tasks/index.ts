export {
  createTaskManager,
  INTERRUPTED,
  TaskManager,
  type TaskManagerOptions,
  TaskNotFoundError,
  TaskQueueFullError,
  type TaskView,
} from "./task-manager.js";
export { parseTaskRequest, type TaskRequest } from "./task-request.js";
export {
  createTaskResolver,
  type ResolvedTask,
  type TaskResolver,
  type TaskResolverOptions,
} from "./task-resolver.js";
export { type TaskQueueStats, TaskQueueUnavailableError, type TaskService } from "./task-service.js";
