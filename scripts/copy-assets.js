// Copies the files the compiled code reads next to it, so dist/ runs on its own, and stamps the
// build: bin/cx.js runs dist/ only while no source file is newer than the stamp.
import { cpSync, writeFileSync } from 'node:fs';
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/match/default-model.json', 'dist/match/default-model.json');
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
