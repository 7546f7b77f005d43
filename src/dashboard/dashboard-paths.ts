// Where the dashboard's handlers belong, relative to the router's mount path (kept apart from the handlers, whose
// `?raw` asset imports are loaded only when `dashboard: true`).
export const DASHBOARD_PATHS = {
  page: '/dashboard',
  script: '/dashboard/dashboard.js',
  style: '/dashboard/dashboard.css',
  icon: '/dashboard/icon.svg',
} as const;
