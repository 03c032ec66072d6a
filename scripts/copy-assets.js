// Copies the files the compiled code reads next to it, so dist/ runs on its own.
import { cpSync } from 'node:fs';
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/match/default-model.json', 'dist/match/default-model.json');
