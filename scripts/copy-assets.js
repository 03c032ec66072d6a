// Copies the SQL migrations next to the compiled store so dist/ runs on its own.
import { cpSync } from 'node:fs';
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
