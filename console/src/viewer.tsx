import { createContext, useContext } from 'react';
import type { Role } from './gql/graphql';

export interface ViewerInfo {
  name: string;
  role: Role;
  partnerId: string | null;
  signOut: () => void;
}

export const ViewerContext = createContext<ViewerInfo | null>(null);

export function useViewer(): ViewerInfo {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error('useViewer outside the signed-in console');
  return viewer;
}
